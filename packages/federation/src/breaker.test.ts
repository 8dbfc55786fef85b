import { describe, expect, it, vi } from 'vitest';

import { McxError } from '@mcx/errors';

import type { PeerResult } from './peer-result.js';
import { fanOut, hits, MAX_BYTES, peers, pick, timed, to } from './test-peers.js';

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
