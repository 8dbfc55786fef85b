import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { McxError } from '@mcx/errors';

import { createFanOut, type FanOut, type FanOutOptions } from './fanout.js';
import type { PeerRequest, PeerResult } from './peer-result.js';

// Real loopback peers on 127.0.0.1, one route per behaviour. The server counts requests and the
// sockets they arrived on, so tests can see what did (and did not) reach a peer.

const MAX_BYTES = 64 * 1024;

interface Peers {
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

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

function routes(peers: Peers): Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> {
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

async function startPeers(): Promise<Peers> {
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

let peers: Peers;
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

function fanOut(overrides: Partial<FanOutOptions> = {}): FanOut {
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

const to = (member: string, path: string, extra: Partial<PeerRequest> = {}): PeerRequest => ({
  member,
  url: path.startsWith('http') ? path : `${peers.base}${path}`,
  headers: {},
  body: '{"q":1}',
  ...extra,
});

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

const hits = (path: string): number => peers.hits.get(path) ?? 0;
const pick = (r: PeerResult) => ({ member: r.member, status: r.status, reason: r.reason, httpStatus: r.httpStatus });

describe('fan-out to peer nodes', () => {
  it('gives every member an honest status and reason, in request order, within the bounds', async () => {
    const seen: PeerResult[] = [];
    const client = fanOut({ onResult: (r) => seen.push(r) });
    // The slow peers come first: results in completion order would fail this.
    const requests = [
      to('SLOW', '/slow'),
      to('HANG', '/hang'),
      to('TRICKLE', '/trickle'),
      to('OK', '/ok'),
      to('BIGDECL', '/big-declared'),
      to('BIGSTREAM', '/big-stream'),
      to('DOWN', '/503'),
      to('DOWNBIG', '/503-big'),
      to('MOVED', '/302'),
      to('NOAUTH', '/401'),
      to('FORBID', '/403'),
      to('MISSING', '/404'),
      to('TEXT', '/not-json'),
      to('RESET', '/reset'),
      to('GONE', peers.closedPortUrl),
    ];
    const { value: results, ms } = await timed(() => client.call(requests));

    expect(results.map(pick)).toEqual([
      { member: 'SLOW', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null },
      { member: 'HANG', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null },
      { member: 'TRICKLE', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null },
      { member: 'OK', status: 'answered', reason: null, httpStatus: 200 },
      { member: 'BIGDECL', status: 'bad_data', reason: 'RESPONSE_TOO_LARGE', httpStatus: 200 },
      { member: 'BIGSTREAM', status: 'bad_data', reason: 'RESPONSE_TOO_LARGE', httpStatus: 200 },
      { member: 'DOWN', status: 'unavailable', reason: 'HTTP_503', httpStatus: 503 },
      { member: 'DOWNBIG', status: 'unavailable', reason: 'HTTP_503', httpStatus: 503 },
      { member: 'MOVED', status: 'bad_data', reason: 'HTTP_302', httpStatus: 302 },
      { member: 'NOAUTH', status: 'refused', reason: 'HTTP_401', httpStatus: 401 },
      { member: 'FORBID', status: 'refused', reason: 'HTTP_403', httpStatus: 403 },
      { member: 'MISSING', status: 'refused', reason: 'HTTP_404', httpStatus: 404 },
      { member: 'TEXT', status: 'bad_data', reason: 'NOT_JSON', httpStatus: 200 },
      { member: 'RESET', status: 'unavailable', reason: 'ECONNRESET', httpStatus: null },
      { member: 'GONE', status: 'unavailable', reason: 'ECONNREFUSED', httpStatus: null },
    ]);
    const byMember = new Map(results.map((r) => [r.member, r]));
    const get = (member: string): PeerResult => byMember.get(member) ?? expect.fail(`no result for ${member}`);
    const [hang, ok, bigDeclared, bigStream, down, text] = [
      get('HANG'),
      get('OK'),
      get('BIGDECL'),
      get('BIGSTREAM'),
      get('DOWN'),
      get('TEXT'),
    ];

    // Cut at the per-peer timeout (600 ms): not before, and the whole call not much after.
    for (const r of [get('SLOW'), hang, get('TRICKLE')]) expect(r.latencyMs).toBeGreaterThanOrEqual(590);
    expect(ms).toBeGreaterThanOrEqual(590);
    expect(ms).toBeLessThan(600 + 250);
    expect(ms).toBeLessThan(1500 + 250);

    expect(ok.body).toEqual({ ok: true });
    expect(ok.responseHeaders['x-peer-name']).toBe('alpha');
    expect(ok.responseHeaders['content-type']).toBe('application/json');
    expect(Object.keys(ok.responseHeaders).every((name) => name === name.toLowerCase())).toBe(true);
    expect(down.responseHeaders['content-type']).toBe('application/json');
    expect(hang.responseHeaders).toEqual({});

    // Too large is refused at the head (declared) or as soon as the bound is passed (streamed), not at the timeout.
    expect(bigDeclared.latencyMs).toBeLessThan(300);
    expect(bigStream.latencyMs).toBeLessThan(300);
    expect(peers.bigStream.written).toBeLessThan(50 * 1024 * 1024);
    await vi.waitFor(() => expect(peers.bigStream.closed).toBe(true));

    // Only answered results carry a body, and no reason or field repeats what a peer sent.
    for (const r of results) if (r.status !== 'answered') expect(r.body).toBeNull();
    expect(JSON.stringify(text)).not.toContain('SECRET');
    expect(seen).toHaveLength(results.length);
    expect(new Set(seen)).toEqual(new Set(results));
  });

  it('cuts every call at the overall deadline when it comes before the per-peer timeout', async () => {
    const client = fanOut({ perPeerTimeoutMs: 1000, overallDeadlineMs: 500 });
    const { value: results, ms } = await timed(() => client.call([to('HANG', '/hang'), to('TRICKLE', '/trickle'), to('OK', '/ok')]));
    expect(results.map(pick)).toEqual([
      { member: 'HANG', status: 'timed_out', reason: 'DEADLINE', httpStatus: null },
      { member: 'TRICKLE', status: 'timed_out', reason: 'DEADLINE', httpStatus: null },
      { member: 'OK', status: 'answered', reason: null, httpStatus: 200 },
    ]);
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThan(500 + 250);
  });

  it('one query, one deadline: a later call of the query gets what is left of it (DEADLINE), not a fresh one', async () => {
    const client = fanOut({ perPeerTimeoutMs: 1000, overallDeadlineMs: 1500 });
    const started = performance.now();
    const deadlineAt = client.deadlineFromNow();
    expect(deadlineAt - started).toBeGreaterThanOrEqual(1500);
    expect(deadlineAt - started).toBeLessThan(1550);
    // The first call uses the per-peer timeout; the second has about 500 ms left of the query's 1500.
    const first = await client.call([to('HANG', '/hang'), to('OK', '/ok')], { deadlineAt });
    expect(first.map(pick)).toEqual([
      { member: 'HANG', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null },
      { member: 'OK', status: 'answered', reason: null, httpStatus: 200 },
    ]);
    const second = await client.call([to('HANG', '/hang'), to('OK', '/ok')], { deadlineAt });
    expect(second.map(pick)).toEqual([
      { member: 'HANG', status: 'timed_out', reason: 'DEADLINE', httpStatus: null },
      { member: 'OK', status: 'answered', reason: null, httpStatus: 200 },
    ]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1490);
    expect(elapsed).toBeLessThan(1500 + 250);
    // A deadline later than the call's own does not lengthen it.
    const { value: late, ms } = await timed(() => client.call([to('HANG', '/hang')], { deadlineAt: performance.now() + 60_000 }));
    expect(late.map(pick)).toEqual([{ member: 'HANG', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null }]);
    expect(ms).toBeLessThan(1000 + 250);
  });

  it("sends nothing once the query's deadline has passed, and does not count it against the member", async () => {
    const client = fanOut({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    const before = hits('/ok');
    const { value: results, ms } = await timed(() => client.call([to('OK', '/ok')], { deadlineAt: performance.now() - 1 }));
    expect(results).toEqual([
      { member: 'OK', status: 'timed_out', latencyMs: 0, httpStatus: null, body: null, reason: 'DEADLINE', responseHeaders: {} },
    ]);
    expect(ms).toBeLessThan(50);
    expect(hits('/ok')).toBe(before);
    expect(client.breakerState('OK')).toBe('closed');
  });

  it('calls peers in parallel', async () => {
    const client = fanOut();
    const { value: results, ms } = await timed(() => client.call(['A', 'B', 'C'].map((m) => to(m, '/delay300'))));
    expect(results.map((r) => r.status)).toEqual(['answered', 'answered', 'answered']);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(600);
  });

  it('POSTs JSON with the given headers, and reuses one keep-alive socket across calls', async () => {
    const client = fanOut();
    const request = to('ECHO', '/echo', {
      headers: { Authorization: 'Bearer t0ken', 'Content-Type': 'text/plain' },
      body: '{"name":"Zoë"}',
    });
    const [first] = await client.call([request]);
    const [second] = await client.call([request]);
    expect(first?.status).toBe('answered');
    expect(second?.status).toBe('answered');
    const echoed = first?.body as { method: string; headers: Record<string, string>; body: string };
    expect(echoed.method).toBe('POST');
    expect(echoed.headers['content-type']).toBe('application/json');
    expect(echoed.headers.authorization).toBe('Bearer t0ken');
    expect(echoed.headers['content-length']).toBe(String(Buffer.byteLength('{"name":"Zoë"}')));
    expect(echoed.body).toBe('{"name":"Zoë"}');
    expect(hits('/echo')).toBe(2);
    expect(peers.sockets.get('/echo')?.size).toBe(1);
  });

  it('aborts outstanding requests on the caller signal, without counting it against the peer', async () => {
    const client = fanOut({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const { value: results, ms } = await timed(() => client.call([to('HANG', '/hang'), to('OK', '/ok')], { signal: controller.signal }));
    expect(results.map(pick)).toEqual([
      { member: 'HANG', status: 'timed_out', reason: 'ABORTED', httpStatus: null },
      { member: 'OK', status: 'answered', reason: null, httpStatus: 200 },
    ]);
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(400);
    expect(client.breakerState('HANG')).toBe('closed');

    const before = hits('/ok');
    const aborted = await client.call([to('OK', '/ok')], { signal: AbortSignal.abort() });
    expect(aborted.map(pick)).toEqual([{ member: 'OK', status: 'timed_out', reason: 'ABORTED', httpStatus: null }]);
    expect(aborted[0]?.latencyMs).toBe(0);
    expect(hits('/ok')).toBe(before);
  });

  it('refuses to send a request it cannot form, and rejects calls after close', async () => {
    const client = fanOut({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    const results = await client.call([to('FTP', 'ftp://127.0.0.1/x'), to('BADHDR', '/ok', { headers: { 'x-bad': 'line\r\nbreak' } })]);
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['unavailable', 'REQUEST_INVALID'],
      ['unavailable', 'REQUEST_INVALID'],
    ]);
    expect(client.breakerState('FTP')).toBe('closed');

    const inFlight = timed(() => client.call([to('HANG', '/hang')]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.close();
    const { value: cut, ms } = await inFlight;
    expect(cut[0]?.status).toBe('unavailable');
    expect(ms).toBeLessThan(400);
    await expect(client.call([to('OK', '/ok')])).rejects.toSatisfy((e) => e instanceof McxError && e.code === 'FANOUT_CLOSED');
    expect(() =>
      createFanOut({
        perPeerTimeoutMs: 0,
        overallDeadlineMs: 1,
        maxResponseBytes: 1,
        breaker: { consecutiveFailures: 1, halfOpenAfterMs: 1 },
      }),
    ).toThrow(expect.objectContaining({ code: 'FANOUT_OPTIONS_INVALID' }));
  });
});

describe('one circuit breaker per member', () => {
  it.each([
    ['unavailable (5xx)', '/503'],
    ['unavailable (refused connection)', 'closed-port'],
    ['timed_out', '/hang'],
    ['bad_data (not JSON)', '/not-json'],
    ['bad_data (too large)', '/big-declared'],
  ])('counts %s as a failure', async (_kind, path) => {
    const client = fanOut({ perPeerTimeoutMs: 150, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    await client.call([to('P', path === 'closed-port' ? peers.closedPortUrl : path)]);
    expect(client.breakerState('P')).toBe('open');
    expect(client.breakerState('OTHER')).toBe('closed');
  });

  it.each(['/401', '/403', '/404', '/ok'])('does not count %s as a failure', async (path) => {
    const client = fanOut({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    const before = hits(path);
    for (let i = 0; i < 4; i++) await client.call([to('P', path)]);
    expect(client.breakerState('P')).toBe('closed');
    expect(hits(path)).toBe(before + 4);
  });

  it('counts consecutive failures only: a refusal in between resets the count', async () => {
    const client = fanOut({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 } });
    await client.call([to('P', '/503')]);
    await client.call([to('P', '/401')]);
    await client.call([to('P', '/503')]);
    expect(client.breakerState('P')).toBe('closed');
    await client.call([to('P', '/503')]);
    expect(client.breakerState('P')).toBe('open');
  });

  it('opens after N failures, lets one trial through after halfOpenAfterMs (Date-only fake clock), closes or reopens on it', async () => {
    // Only Date is faked: cockatiel reads Date.now(); the sockets and timeouts run on real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const client = fanOut({ perPeerTimeoutMs: 150, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 10_000 } });
    const tg = to('TG', '/toggle');
    const once = async () => (await client.call([tg]))[0] as PeerResult;

    peers.toggle.mode = 'fail';
    for (let i = 1; i <= 2; i++) {
      expect((await once()).reason).toBe('HTTP_503');
      expect(client.breakerState('TG')).toBe('closed');
    }
    expect((await once()).reason).toBe('HTTP_503');
    expect(client.breakerState('TG')).toBe('open');
    expect(hits('/toggle')).toBe(3);

    // Open: no request reaches the peer, even a healthy one.
    peers.toggle.mode = 'ok';
    expect(await once()).toEqual({
      member: 'TG',
      status: 'circuit_open',
      latencyMs: 0,
      httpStatus: null,
      body: null,
      reason: 'CIRCUIT_OPEN',
      responseHeaders: {},
    });
    vi.setSystemTime(t0 + 9_999);
    expect(client.breakerState('TG')).toBe('open');
    expect((await once()).status).toBe('circuit_open');
    expect(hits('/toggle')).toBe(3);

    // Half-open: one trial; success closes.
    vi.setSystemTime(t0 + 10_000);
    expect(client.breakerState('TG')).toBe('half_open');
    expect(pick(await once())).toEqual({ member: 'TG', status: 'answered', reason: null, httpStatus: 200 });
    expect(hits('/toggle')).toBe(4);
    expect(client.breakerState('TG')).toBe('closed');

    // Open again; this time the trial times out (a real timer, under the fake Date) and reopens it.
    peers.toggle.mode = 'fail';
    for (let i = 0; i < 3; i++) await once();
    expect(client.breakerState('TG')).toBe('open');
    const t1 = Date.now();
    vi.setSystemTime(t1 + 10_000);
    expect(client.breakerState('TG')).toBe('half_open');
    peers.toggle.mode = 'hang';
    expect(pick(await once())).toEqual({ member: 'TG', status: 'timed_out', reason: 'TIMEOUT', httpStatus: null });
    expect(client.breakerState('TG')).toBe('open');
    const before = hits('/toggle');
    peers.toggle.mode = 'ok';
    expect((await once()).status).toBe('circuit_open');
    vi.setSystemTime(t1 + 10_000 + 9_999);
    expect(client.breakerState('TG')).toBe('open');
    expect(hits('/toggle')).toBe(before);
    vi.setSystemTime(t1 + 20_000);
    expect((await once()).status).toBe('answered');
    expect(client.breakerState('TG')).toBe('closed');
  });

  it('sends exactly one half-open trial; other requests to that member get circuit_open at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const client = fanOut({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 10_000 } });
    const tg = to('TG', '/toggle');
    peers.toggle.mode = 'fail';
    await client.call([tg]);
    expect(client.breakerState('TG')).toBe('open');
    const before = hits('/toggle');

    // Two requests to the member in one call: one trial, one circuit_open.
    vi.setSystemTime(t0 + 10_000);
    peers.toggle.mode = 'slow-ok';
    const trial = timed(() => client.call([tg, to('OK', '/ok')]));
    expect(client.breakerState('TG')).toBe('half_open');
    // A concurrent call while the trial is in flight does not wait for it (cockatiel alone would).
    const { value: concurrent, ms } = await timed(() => client.call([tg, tg, to('OK', '/ok')]));
    expect(concurrent.map((r) => r.status)).toEqual(['circuit_open', 'circuit_open', 'answered']);
    expect(ms).toBeLessThan(150);
    const { value: first, ms: trialMs } = await trial;
    expect(first.map((r) => r.status)).toEqual(['answered', 'answered']);
    expect(trialMs).toBeGreaterThanOrEqual(290);
    expect(hits('/toggle')).toBe(before + 1);
    expect(client.breakerState('TG')).toBe('closed');

    // Again, with the duplicate in the same call as the trial.
    peers.toggle.mode = 'fail';
    await client.call([tg]);
    vi.setSystemTime(t0 + 20_000);
    peers.toggle.mode = 'ok';
    expect((await client.call([tg, tg])).map((r) => r.status)).toEqual(['answered', 'circuit_open']);
  });
});
