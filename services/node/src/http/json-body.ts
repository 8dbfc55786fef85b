import { Transform, type Readable } from 'node:stream';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HttpRefusal } from './refusals.js';

/** The request media types parsed as JSON; anything else is 415. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/graphql-response+json'];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when the JSON text nests objects and arrays deeper than `maxDepth`: one pass over the bytes,
 * skipping strings (and their escapes), that stops at the first level too deep. It runs before
 * JSON.parse, so a body of a million nested brackets costs a scan of its first few bytes rather
 * than a parse that builds the whole tree and a GraphQL coercion that recurses through it. Bytes of
 * a UTF-8 multi-byte character are all 0x80 or above, so they are never taken for brackets or quotes.
 * Malformed JSON is left for JSON.parse to refuse.
 */
export function jsonNestsDeeperThan(body: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** A request carries a body when it declares a length above zero or is chunked. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** A body that may be longer than `limit`: declared so, or chunked (its length unknown). */
function mayExceed(request: FastifyRequest, limit: number): boolean {
  return Number(request.headers['content-length'] ?? 0) > limit || request.headers['transfer-encoding'] !== undefined;
}

/** Passes the body through, and fails it with 413 once more than `limit` bytes have come. */
function capped(payload: Readable, limit: number): Transform {
  let received = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      received += chunk.length;
      if (received > limit) callback(HttpRefusal.tooLarge(limit));
      else callback(null, chunk);
    },
  });
  payload.on('error', (err) => cap.destroy(err));
  // A reader (the JSON parser) sees the refusal itself; a route that never reads the body (a GET,
  // a request that matched no route) must not turn it into an uncaught exception that stops the
  // node. The answer then closes the connection (onSend below), leaving the rest unread.
  cap.on('error', () => undefined);
  return payload.pipe(cap);
}

/**
 * JSON bodies only, parsed after the credential has been checked:
 * - a request that has not shown a valid credential (the route's onRequest hook sets
 *   `request.authenticated`) may send at most `anonymousMaxBodyBytes`: the declared length is
 *   refused at once, and a chunked body is cut as it comes; authenticated requests get the
 *   server's `bodyLimit`;
 * - nesting deeper than `maxJsonDepth` is refused (400 BAD_REQUEST, reason JSON_TOO_DEEP) before
 *   JSON.parse; the parse itself refuses `__proto__` and `constructor.prototype` keys.
 */
export function registerJsonBody(
  server: FastifyInstance,
  opts: { maxBodyBytes: number; anonymousMaxBodyBytes: number; maxJsonDepth: number },
): void {
  server.decorateRequest('authenticated', false);
  // A request answered before its body was read (refused for want of a valid credential): a body of
  // at most the anonymous limit is read and discarded, so the connection can serve the client's next
  // request; a longer one, or one of unknown length, is not read at all: the connection is closed
  // after the answer. A client still uploading then sees the connection close (EPIPE or a reset)
  // rather than the 401, and the node does not spend its event loop receiving megabytes it refused.
  server.addHook('onSend', (request, reply, payload, done) => {
    if (!request.authenticated && request.body === undefined && mayExceed(request, opts.anonymousMaxBodyBytes))
      void reply.header('connection', 'close');
    done(null, payload);
  });
  // A callback hook, not an async one: it runs for every request, most of which have no body.
  server.addHook('preParsing', (request, _reply, payload, done) => {
    if (!hasBody(request)) return done(null, payload);
    if (!request.authenticated && Number(request.headers['content-length']) > opts.anonymousMaxBodyBytes)
      return done(HttpRefusal.tooLarge(opts.anonymousMaxBodyBytes));
    // A request that matched no route is answered 404 before its body is read (a chunked one would
    // otherwise be read to its end, for nothing).
    if (request.routeOptions.url === undefined) return done(new HttpRefusal(404, 'NOT_FOUND', 'no such route'));
    done(null, request.authenticated ? payload : capped(payload, opts.anonymousMaxBodyBytes));
  });
  server.removeAllContentTypeParsers();
  const parseJson = server.getDefaultJsonParser('error', 'error');
  server.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    if (jsonNestsDeeperThan(body as Buffer, opts.maxJsonDepth)) {
      done(HttpRefusal.badRequest('JSON_TOO_DEEP', `the JSON body nests deeper than ${opts.maxJsonDepth} levels`), undefined);
      return;
    }
    parseJson(request, body as unknown as string, done);
  });
}
