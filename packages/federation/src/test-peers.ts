// Test peers for the fan-out tests (fanout.test.ts, breaker.test.ts): importing this file starts
// them before the file's tests and stops them after; each test's fan-out clients are closed after it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { afterAll, afterEach, beforeAll, vi } from 'vitest';

import { createFanOut, type FanOut, type FanOutOptions } from './fanout.js';
import type { PeerRequest, PeerResult } from './peer-result.js';

// Real loopback peers on 127.0.0.1, one route per behaviour. The server counts requests and the
// sockets they arrived on, so tests can see what did (and did not) reach a peer.

export const MAX_BYTES = 64 * 1024;

export interface Peers {
  base: string;
  closedPortUrl: string;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  /** Distinct sockets that carried requests, by path. */
  sockets: Map<string, Set<Socket>>;
  /** What `/toggle` does next. */
  toggle: { mode: 'ok' | 'fail' | 'hang' | 'slow-ok' };
  /** `/big-stream`: bytes written before the client went away, and whether it did. */
  bigStream: { written: number; closed: boolean };
  server: Server;
  timers: Set<NodeJS.Timeout>;
}

export const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

export function routes(peers: Peers): Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> {
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      peers.timers.delete(timer);
      fn();
    }, ms);
    peers.timers.add(timer);
  };
  return {
    '/ok': (_req, res) => json(res, 200, { ok: true }, { 'X-Peer-Name': 'alpha' }),
    '/echo': (req, res, body) => json(res, 200, { method: req.method, headers: req.headers, body }),
    '/slow': (_req, res) => later(3000, () => res.destroyed || json(res, 200, { ok: 'late' })),
    '/delay300': (_req, res) => later(300, () => json(res, 200, { ok: true })),
    '/hang': () => undefined,
    '/trickle': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const drip = (): void =>
        later(50, () => {
          if (res.destroyed) return;
          res.write(' ');
          drip();
        });
      drip();
    },
    '/big-declared': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_BYTES * 10) });
      res.write('[');
    },
    '/big-stream': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.on('close', () => (peers.bigStream.closed = true));
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && peers.bigStream.written < 50 * 1024 * 1024) {
          peers.bigStream.written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    },
    '/503': (_req, res) => json(res, 503, { error: { code: 'DOWN' } }),
    '/503-big': (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': String(MAX_BYTES * 10) });
      res.write('{');
    },
    '/302': (_req, res) => {
      res.writeHead(302, { location: '/ok' });
      res.end();
    },
    '/401': (_req, res) => json(res, 401, { error: { code: 'UNAUTHENTICATED' } }),
    '/403': (_req, res) => json(res, 403, { error: { code: 'FORBIDDEN' } }),
    '/404': (_req, res) => json(res, 404, { error: { code: 'NOT_FOUND' } }),
    '/not-json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('SECRET-CASE-NOTES this is not json');
    },
    '/reset': (req) => req.socket.destroy(),
    '/toggle': (_req, res) => {
      const { mode } = peers.toggle;
      if (mode === 'ok') json(res, 200, { ok: true });
      else if (mode === 'fail') json(res, 503, { error: { code: 'DOWN' } });
      else if (mode === 'slow-ok') later(300, () => json(res, 200, { ok: 'slow' }));
    },
  };
}

export async function startPeers(): Promise<Peers> {
  const peers = {
    hits: new Map(),
    sockets: new Map(),
    toggle: { mode: 'ok' },
    bigStream: { written: 0, closed: false },
    timers: new Set(),
  } as unknown as Peers;
  const table = routes(peers);
  peers.server = createServer((req, res) => {
    const path = req.url ?? '/';
    peers.hits.set(path, (peers.hits.get(path) ?? 0) + 1);
    const seen = peers.sockets.get(path) ?? new Set<Socket>();
    seen.add(req.socket);
    peers.sockets.set(path, seen);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => (table[path] ?? ((_q, r) => json(r, 404, {})))(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => peers.server.listen(0, '127.0.0.1', resolve));
  peers.base = `http://127.0.0.1:${(peers.server.address() as AddressInfo).port}`;

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  peers.closedPortUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return peers;
}

export let peers: Peers;
const fanOuts: FanOut[] = [];

beforeAll(async () => {
  peers = await startPeers();
});

afterEach(async () => {
  vi.useRealTimers();
  peers.toggle.mode = 'ok';
  await Promise.all(fanOuts.splice(0).map((f) => f.close()));
});

afterAll(async () => {
  for (const timer of peers.timers) clearTimeout(timer);
  peers.server.closeAllConnections();
  await new Promise<void>((resolve) => peers.server.close(() => resolve()));
});

export function fanOut(overrides: Partial<FanOutOptions> = {}): FanOut {
  const created = createFanOut({
    perPeerTimeoutMs: 600,
    overallDeadlineMs: 1500,
    maxResponseBytes: MAX_BYTES,
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 10_000 },
    ...overrides,
  });
  fanOuts.push(created);
  return created;
}

export const to = (member: string, path: string, extra: Partial<PeerRequest> = {}): PeerRequest => ({
  member,
  url: path.startsWith('http') ? path : `${peers.base}${path}`,
  headers: {},
  body: '{"q":1}',
  ...extra,
});

export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

export const hits = (path: string): number => peers.hits.get(path) ?? 0;
export const pick = (r: PeerResult) => ({ member: r.member, status: r.status, reason: r.reason, httpStatus: r.httpStatus });
