/**
 * Writing one alert stream to its HTTP response: the event-stream headers (no-store, no proxy
 * buffering), a heartbeat comment at the node's own interval (graphql-sse's fixed 12 s ping is
 * left out), each `next` event with its event number as the SSE `id:`, and everything freed when
 * either end goes away.
 */
import type { FastifyReply } from 'fastify';

import type { Logger } from '@mcx/logger';

/** graphql-sse's keep-alive: an empty comment, sent first and then every 12 s. */
const LIBRARY_PING = ':\n\n';

/** The event number a `next` event carries in its extensions (alert-stream-routes.ts puts it there), as the SSE id. */
export function withEventId(message: string): string {
  if (!message.startsWith('event: next\n')) return message;
  const data = /^data: (.*)$/m.exec(message)?.[1];
  try {
    const n = (JSON.parse(data ?? 'null') as { extensions?: { eventNumber?: unknown } } | null)?.extensions?.eventNumber;
    return Number.isSafeInteger(n) ? `id: ${String(n)}\n${message}` : message;
  } catch {
    return message;
  }
}

/**
 * Sends graphql-sse's event stream `body` on the raw response, with the headers Fastify's hooks
 * set (security headers, request id). `onEnd` runs once, when the stream ends or the client leaves.
 */
export function sendEventStream(
  reply: FastifyReply,
  body: AsyncGenerator<string, void, undefined>,
  opts: { heartbeatMs: number; log: Logger; onEnd: () => void },
): void {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  // Flushes the headers at once: a browser's EventSource (and fetch) only then sees the stream open.
  res.write(LIBRARY_PING);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    opts.onEnd();
    void body.return(undefined).catch(() => undefined);
    if (!res.writableEnded) res.end();
  };
  res.once('close', end);
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await body.next();
        if (done || res.destroyed) break;
        if (value !== LIBRARY_PING) res.write(withEventId(value));
      }
    } catch (err) {
      opts.log.error({ err }, 'the alert stream failed');
    } finally {
      end();
    }
  })();
}
