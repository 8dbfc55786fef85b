import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCode, McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';
import { withIncomingContext, withNode, withSpan } from '@mcx/telemetry';

import type { App } from '../app.js';
import type { Principal } from '../auth/access.js';
import type { Context } from '../context.js';
import { releaseTurn } from './federation-gate.js';
import { sendRefusal, type ErrorShape } from './refusals.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller on /graphql (set by its onRequest hook; never null past it). */
    principal: Principal | null;
  }
}

/** GraphQL request errors: the document or the variables, in a request that was itself well formed. */
const GRAPHQL_REQUEST_ERRORS = new Set<string>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
]);

/**
 * The GraphQL-over-HTTP status for a legacy `application/json` response: 200 for every well-formed
 * request whatever its GraphQL errors (the client reads `errors`). Apollo answers 400 there, which
 * is right only for `application/graphql-response+json`; an unreadable request (bad JSON, no
 * query, a batch, a CSRF refusal) stays 400.
 */
function legacyJsonStatus(status: number, contentType: unknown, body: unknown): number {
  if (status !== 400 || typeof body !== 'string' || typeof contentType !== 'string' || !contentType.startsWith('application/json'))
    return status;
  try {
    const parsed = JSON.parse(body) as { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
    const requestErrors = parsed.errors?.length && parsed.errors.every((e) => GRAPHQL_REQUEST_ERRORS.has(String(e.extensions?.code)));
    return requestErrors && parsed.data === undefined ? 200 : status;
  } catch {
    return status;
  }
}

function unauthenticated(reply: FastifyReply, challenge: string, message: string, reason: string, shape: ErrorShape): FastifyReply {
  void reply.header('www-authenticate', challenge);
  // A plain object, not an Error: a flood of anonymous requests costs no stack traces.
  return sendRefusal(reply, { statusCode: 401, code: ErrorCode.UNAUTHENTICATED, message, reason }, shape);
}

/**
 * The preHandler that takes a request's bearer token: a refused or missing token is a 401 with its
 * code (noted for the security log) before anything else runs. /graphql and /graphql/stream share it.
 */
export function bearerAuthentication(app: App, shape: ErrorShape = 'graphql') {
  const source = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';
  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    let principal: Principal | null;
    try {
      principal = await app.authenticate(request.headers);
    } catch (err) {
      if (!(err instanceof McxError)) throw err;
      app.security.note('token_refused', err.code, source(request));
      return unauthenticated(reply, 'Bearer error="invalid_token"', 'The bearer token was refused', err.code, shape);
    }
    if (!principal) {
      app.security.note('unauthenticated', 'TOKEN_MISSING', source(request));
      return unauthenticated(reply, 'Bearer', 'Authentication required: send a bearer token', 'TOKEN_MISSING', shape);
    }
    request.principal = principal;
    request.authenticated = true;
  };
}

/**
 * POST and GET /graphql. The bearer token is verified from the headers in onRequest, before the
 * body is read: a request without a valid token is 401 with a WWW-Authenticate challenge, its body
 * never parsed, and no GraphQL runs for it (not even `{ __typename }`). Refusals go to the security
 * log, rate-limited, never the audit chain. The handler is @as-integrations/fastify's, inside the
 * request's trace span.
 */
export const graphqlRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  server.decorateRequest('principal', null);
  const source = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';

  const authenticate = bearerAuthentication(app);

  const apollo = fastifyApolloHandler<Context>(app.apollo, {
    context: async (request) =>
      app.graphqlContext({
        requestId: request.id,
        logger: request.log as Logger,
        principal: request.principal,
        headers: request.headers,
        source: source(request),
      }),
  });

  server.route({
    method: ['GET', 'POST'],
    url: '/graphql',
    config: { errorShape: 'graphql' },
    onRequest: authenticate,
    handler: (request, reply) =>
      // Every span this node makes says which node made it (several nodes can share a process in tests).
      withNode(app.forceCode, () =>
        withIncomingContext(request.headers, () =>
          withSpan('mcx.graphql', { kind: 'server' }, async () => {
            let body: unknown;
            try {
              body = await apollo.call(server, request as Parameters<typeof apollo>[0], reply as Parameters<typeof apollo>[1]);
            } finally {
              // A federated read's turn at the admission gate ends with the read, whether or not its client is still there.
              releaseTurn(request);
            }
            // A complete result comes back as text to send; an incremental one has been sent as a stream.
            if (typeof body !== 'string') return body;
            return reply.code(legacyJsonStatus(reply.statusCode, reply.getHeader('content-type'), body)).send(body);
          }),
        ),
      ),
  });
};
