import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCode } from '@mcx/errors';
import { REFUSAL_HEADER } from '@mcx/federation';
import type { Logger } from '@mcx/logger';

/** How a route words its refusals: GraphQL errors on /graphql, `{ error }` with x-mcx-refusal on /peer/v1, `{ error }` elsewhere. */
export type ErrorShape = 'graphql' | 'peer' | 'plain';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
  interface FastifyRequest {
    /** Set by the route's onRequest hook once the request has shown a valid credential; the body limit depends on it. */
    authenticated: boolean;
  }
}

/** What a refusal says: its status, a stable code, a message, and where the code is general, which check refused. */
export interface Refusal {
  statusCode: number;
  code: string;
  message: string;
  reason?: string | undefined;
}

/**
 * An HTTP-level refusal with a stable code (extensions.code on /graphql, error.code on /peer/v1)
 * and, where the code is general, a reason that says which check refused.
 */
export class HttpRefusal extends Error implements Refusal {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }

  static tooLarge(limit: number): HttpRefusal {
    return new HttpRefusal(413, ErrorCode.PAYLOAD_TOO_LARGE, `request body exceeds ${limit} bytes`);
  }

  static badRequest(reason: string, message: string): HttpRefusal {
    return new HttpRefusal(400, 'BAD_REQUEST', message, reason);
  }
}

/** Sends a refusal in the route's shape. */
export function sendRefusal(reply: FastifyReply, refusal: Refusal, shape: ErrorShape): FastifyReply {
  const { statusCode: status, code, message, reason } = refusal;
  void reply.code(status).header('content-type', 'application/json; charset=utf-8');
  if (shape === 'graphql') return reply.send({ errors: [{ message, extensions: { code, ...(reason ? { reason } : {}) } }] });
  if (shape === 'peer') void reply.header(REFUSAL_HEADER, code);
  return reply.send({ error: { code, message, ...(reason ? { reason } : {}) } });
}

/** True when the client went away: the body was cut short or the socket closed under the request. */
export function clientAborted(request: FastifyRequest): boolean {
  return request.raw.aborted || request.raw.socket?.destroyed === true;
}

/**
 * What an error thrown anywhere in a request (Fastify's body parsing, a hook, a handler) means to the
 * caller. Fastify's own codes become MCX codes; anything unexpected is a 500 and logged at error.
 */
export function refusalFor(err: FastifyError | HttpRefusal | Error, limits: { bodyLimit: number }): HttpRefusal | null {
  if (err instanceof HttpRefusal) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return HttpRefusal.tooLarge(limits.bodyLimit);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return HttpRefusal.badRequest('JSON_INVALID', 'request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return HttpRefusal.badRequest('BODY_EMPTY', 'the request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return HttpRefusal.badRequest('CONTENT_LENGTH_MISMATCH', 'the body does not match its Content-Length');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpRefusal(415, 'BAD_REQUEST', 'send the request as application/json', 'UNSUPPORTED_MEDIA_TYPE');
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return HttpRefusal.badRequest('BAD_HTTP_REQUEST', 'the request could not be read');
  return null;
}

/**
 * The one error handler: refusals go out in the route's shape and are logged at info; a client
 * that went away is an abort (logged once, by the request log), never a 5xx or an error line;
 * anything else is a 500, logged at error without echoing the request.
 */
export function createErrorHandler(opts: { maxBodyBytes: number; anonymousMaxBodyBytes: number }) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const log = request.log as Logger;
    if (clientAborted(request)) {
      log.debug({ code: err.code }, 'request body cut short by the client');
      return reply.code(400).send();
    }
    const shape = request.routeOptions.config.errorShape ?? 'plain';
    const refusal = refusalFor(err, { bodyLimit: request.authenticated ? opts.maxBodyBytes : opts.anonymousMaxBodyBytes });
    if (refusal) {
      // A body cut off part-way may still be arriving: do not keep reading it on this connection.
      if (refusal.statusCode === 413) void reply.header('connection', 'close');
      log.info({ code: refusal.code, reason: refusal.reason }, 'request refused');
      return sendRefusal(reply, refusal, shape);
    }
    log.error({ err }, 'request failed');
    return sendRefusal(reply, new HttpRefusal(500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'), shape);
  };
}
