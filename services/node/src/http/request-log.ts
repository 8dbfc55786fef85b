import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { Logger } from '@mcx/logger';

/**
 * The route the request matched (its pattern), never the URL the caller sent: a path or a query
 * string is caller input and could carry a name. A request that matched no route is `(no route)`.
 */
function pathOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? '(no route)';
}

const msSince = (started: bigint) => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;

/**
 * One info line per request: method, path, status and time once the response has gone out, or
 * "request aborted by the client" when the connection closed first (a client that gives up is not
 * a server failure: no status, no error level). Fastify's own request logging is off. The line is
 * written through the root logger with the request id in it, so a request that logs nothing else
 * never makes a child logger (see request-logger.ts).
 */
export function registerRequestLog(server: FastifyInstance): void {
  const log = server.log as unknown as Logger;
  server.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    if (!log.isLevelEnabled('info')) return done();
    const started = process.hrtime.bigint();
    reply.raw.once('close', () => {
      const line = { requestId: request.id, method: request.method, path: pathOf(request), ms: msSince(started) };
      if (reply.raw.writableFinished) log.info({ ...line, status: reply.statusCode }, 'request');
      else log.info({ ...line, aborted: true }, 'request aborted by the client');
    });
    done();
  });
}
