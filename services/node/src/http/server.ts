import { randomUUID } from 'node:crypto';

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import type { Logger } from '@mcx/logger';

import type { App } from '../app.js';
import type { Config } from '../config.js';
import { alertStreamRoutes } from './alert-stream-routes.js';
import { auditExportRoutes } from './audit-export-routes.js';
import { consoleRoutes } from './console-routes.js';
import { registerFederationGate, type AdmissionGate } from './federation-gate.js';
import { graphqlRoutes } from './graphql-routes.js';
import { healthRoutes } from './health-routes.js';
import { registerJsonBody } from './json-body.js';
import { jwksRoutes } from './jwks-routes.js';
import { registerLoadShedding } from './load-shedding.js';
import { peerRoutes } from './peer-routes.js';
import { createErrorHandler, HttpRefusal, sendRefusal } from './refusals.js';
import { registerRequestLog } from './request-log.js';
import { lazyRequestLogger } from './request-logger.js';
import { API_HELMET_OPTIONS, helmetHeaders, registerSecurityHeaders } from './security-headers.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The admission gate of federated reads on /graphql, for the metrics. */
    federationGate: AdmissionGate;
  }
}

const FRAMEWORK_HEADERS = helmetHeaders(API_HELMET_OPTIONS);

/** A caller's request id is kept only in a form that cannot carry a name: a UUID, or 32 hex digits (a trace id). */
const REQUEST_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/i;

/**
 * The node's HTTP edge: one Fastify instance, one route module per surface (GraphQL, the peer
 * endpoint, health and readiness, JWKS). Here only the cross-cutting parts: request ids and the
 * request log, security headers, load shedding, JSON bodies and their limits, one error handler
 * and one 404. It opens no socket: startNode listens.
 */
export async function buildServer(
  app: App,
  { config, logger, databaseUrl = null }: { config: Config; logger: Logger; databaseUrl?: string | null },
): Promise<FastifyInstance> {
  const server = Fastify({
    // The node's pino logger (redaction included); each request logs through a child with its requestId.
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request, from registerRequestLog; Fastify's own would log an abort as an error.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    childLoggerFactory: lazyRequestLogger,
    // A caller's x-request-id is kept when it is a UUID or a trace id, so one id follows a request
    // across systems; anything else is replaced, never echoed or logged (it could carry a name).
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Fastify's own answers to a URL it cannot decode (or a body it rejects before any hook runs)
    // quote the caller's input: a fixed refusal instead, with the security headers and a request id.
    frameworkErrors: (error, request, reply) => {
      void reply.headers(FRAMEWORK_HEADERS).header('x-request-id', request.id).header('connection', 'close');
      const refusal =
        error.code === 'FST_ERR_BAD_URL'
          ? HttpRefusal.badRequest('BAD_URL', 'the URL is not valid')
          : HttpRefusal.badRequest('BAD_REQUEST', 'the request is not valid');
      request.log.info({ code: refusal.reason }, 'request refused before routing');
      sendRefusal(reply, refusal, 'plain');
    },
    bodyLimit: config.maxBodyBytes,
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    // While closing, a request that still arrives on an open connection gets 503 at once.
    return503OnClosing: true,
  });
  server.server.headersTimeout = 66_000;
  // Once close() has begun, a response still being served closes its connection, so a keep-alive
  // client does not hold the drain open (new requests on open connections get 503, above).
  let draining = false;
  server.addHook('preClose', async () => {
    draining = true;
    // Long polls held for members (mcx.filter/2) are answered now, and none is held from here on, so the close does not wait out a hold.
    app.services.locatorFilter?.closing();
  });
  server.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  registerRequestLog(server);
  registerSecurityHeaders(server);
  // Load shedding before any token is verified or body read: 503 with Retry-After. A check set to 0 is off.
  registerLoadShedding(server, config.http.pressure);
  registerJsonBody(server, { maxBodyBytes: config.maxBodyBytes, ...config.http });
  // Past its capacity for federated reads, the node refuses new ones at once (503, Retry-After).
  // A read whose client hung up keeps its turn until it ends, and at most this long after the hang-up (the deadline bounds its fan-out).
  server.decorate(
    'federationGate',
    registerFederationGate(server, config.federationLoad, { releaseAfterCloseMs: config.federation.deadlineMs + 2000 }),
  );
  server.setErrorHandler(
    createErrorHandler({ maxBodyBytes: config.maxBodyBytes, anonymousMaxBodyBytes: config.http.anonymousMaxBodyBytes }),
  );
  server.setNotFoundHandler((_request, reply) => sendRefusal(reply, new HttpRefusal(404, 'NOT_FOUND', 'no such route'), 'plain'));

  await server.register(healthRoutes, { app });
  await server.register(jwksRoutes, { app });
  await server.register(graphqlRoutes, { app });
  await server.register(alertStreamRoutes, { app, config, databaseUrl });
  await server.register(peerRoutes, { app });
  await server.register(auditExportRoutes, {
    app,
    stallMs: config.auditExportStallSeconds * 1000,
    maxMs: config.auditExportMaxSeconds * 1000,
  });
  await server.register(consoleRoutes, { app, config });
  return server;
}
