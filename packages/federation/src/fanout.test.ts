import { describe, expect, it, vi } from 'vitest';

import { McxError } from '@mcx/errors';

import { createFanOut } from './fanout.js';
import type { PeerResult } from './peer-result.js';
import { fanOut, hits, MAX_BYTES, peers, pick, timed, to } from './test-peers.js';

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
