import type { FastifyPluginAsync } from 'fastify';

import type { App } from '../app.js';

/** Lets a route through while the node sheds load (see @fastify/under-pressure's route pressureHandler). */
export const exemptFromLoadShedding = { pressureHandler: () => undefined };

/**
 * GET /healthz (liveness) and GET /readyz (readiness), both unauthenticated and free of record data.
 *
 * Neither is shed under load. /healthz answers as long as the process can: an orchestrator that
 * restarts a node for being busy loses the requests in flight and moves the load onto the other
 * replicas. /readyz says the node is not ready (503) while it is overloaded, so a load balancer sends
 * new work elsewhere, and it reports the database, the migrations, the manifest, integrity faults
 * and the audit chain as they are.
 */
export const healthRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  server.get('/healthz', { config: exemptFromLoadShedding }, async () => ({ status: 'ok' }));

  server.get('/readyz', { config: exemptFromLoadShedding }, async (_request, reply) => {
    const readiness = await app.readiness();
    const overloaded = server.isUnderPressure();
    const body = { ...readiness, ready: readiness.ready && !overloaded, load: overloaded ? 'overloaded' : 'ok' };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
};
