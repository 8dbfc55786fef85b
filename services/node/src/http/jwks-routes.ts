import type { FastifyPluginAsync } from 'fastify';

import type { App } from '../app.js';

/** GET /.well-known/jwks.json: informational only; peers trust the keys in the signed manifest, never this. */
export const jwksRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  server.get('/.well-known/jwks.json', async () => app.jwks);
};
