import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { PEER_PATH, REFUSAL_HEADER } from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { VerifiedNodeToken } from '@mcx/signing';
import { withIncomingContext, withNode, withSpan } from '@mcx/telemetry';

import type { App } from '../app.js';
import { type PeerReply } from '../federation/peer-endpoint.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's node token on /peer/v1, verified from the headers (set by its onRequest hook). */
    peerToken: VerifiedNodeToken | null;
  }
}

function send(reply: FastifyReply, answer: PeerReply): FastifyReply {
  void reply.code(answer.status).header('content-type', 'application/json; charset=utf-8');
  if (answer.refusal) {
    void reply.header(REFUSAL_HEADER, answer.refusal);
    if (answer.status === 401) void reply.header('www-authenticate', 'Bearer error="invalid_token"');
  }
  return reply.send(answer.raw ?? JSON.stringify(answer.body));
}

/**
 * POST /peer/v1, where member nodes ask this node (federation/peer-endpoint.ts decides what to
 * answer). The node token is checked from the Authorization header before the body is read, so a
 * request without a valid one is 401 with its body unread; the request hash and the replay check
 * follow once the body is parsed. Other methods are 405; a node outside any federation answers 404
 * NOT_FEDERATED.
 */
export const peerRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  const endpoint = app.peerEndpoint;
  const config = { errorShape: 'peer' as const };
  if (!endpoint) {
    server.all(PEER_PATH, { config }, async (_request, reply) =>
      sendRefusal(reply, new HttpRefusal(404, 'NOT_FEDERATED', 'this node is not a member of a federation'), 'peer'),
    );
    return;
  }
  server.decorateRequest('peerToken', null);
  const source = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';

  server.route({
    method: 'POST',
    url: PEER_PATH,
    config,
    onRequest: async (request, reply) => {
      const checked = endpoint.authenticate(request.headers.authorization, source(request));
      if ('refused' in checked) return send(reply, checked.refused);
      request.peerToken = checked.token;
      request.authenticated = true;
    },
    handler: (request, reply) =>
      withNode(app.forceCode, () =>
        withIncomingContext(request.headers, () =>
          withSpan('mcx.peer.answer', { kind: 'server', attributes: { 'mcx.node': app.forceCode } }, async () =>
            send(reply, await endpoint.answer(request.peerToken!, request.body, source(request), request.log as Logger)),
          ),
        ),
      ),
  });
  server.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: PEER_PATH,
    config,
    handler: async (_request, reply) =>
      sendRefusal(reply.header('allow', 'POST'), new HttpRefusal(405, 'METHOD_NOT_ALLOWED', 'POST only'), 'peer'),
  });
};
