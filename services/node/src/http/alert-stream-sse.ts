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
 * How far the writer is behind the stream's source: the source asks `ready()` before it reads or
 * sends anything more, which resolves once every event it sent has been written to the socket and
 * the socket has drained (or the stream ended). A client that stops reading stops the source.
 */
export class StreamPace {
  private queued = 0;
  private written = 0;
  private backedUp = false;
  private ended = false;
  private waiters: (() => void)[] = [];

  /** An event left the source (for the writer to write). */
  queue(): void {
    this.queued++;
  }

  ready(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The writer wrote one event; `drained` is res.write's answer. */
  wrote(drained: boolean): void {
    this.written++;
    this.backedUp = !drained;
    this.notify();
  }

  drained(): void {
    this.backedUp = false;
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  private isReady(): boolean {
    return this.ended || (this.written >= this.queued && !this.backedUp);
  }

  private notify(): void {
    if (!this.isReady()) return;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}

/**
 * Sends graphql-sse's event stream `body` on the raw response, with the headers Fastify's hooks
 * set (security headers, request id). `onEnd` runs once, when the stream ends or the client leaves.
 */
export function sendEventStream(
  reply: FastifyReply,
  body: AsyncGenerator<string, void, undefined>,
  opts: { heartbeatMs: number; log: Logger; onEnd: () => void; pace: StreamPace },
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
  // No heartbeat is queued behind a client that is not reading: the connection is alive enough.
  const heartbeat = setInterval(() => void (res.writableNeedDrain || res.write(': heartbeat\n\n')), opts.heartbeatMs);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    opts.pace.end();
    opts.onEnd();
    void body.return(undefined).catch(() => undefined);
    if (!res.writableEnded) res.end();
  };
  res.once('close', end);
  res.on('drain', () => opts.pace.drained());
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await body.next();
        if (done || res.destroyed) break;
        if (value === LIBRARY_PING) continue;
        const drained = res.write(withEventId(value));
        if (value.startsWith('event: next\n')) opts.pace.wrote(drained);
      }
    } catch (err) {
      opts.log.error({ err }, 'the alert stream failed');
    } finally {
      end();
    }
  })();
}
