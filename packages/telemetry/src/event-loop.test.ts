import { afterEach, describe, expect, it, vi } from 'vitest';

import { acquireEventLoopMonitor, EVENT_LOOP_RESOLUTION_MS, type EventLoopMonitor } from './event-loop.js';

const held: EventLoopMonitor[] = [];
afterEach(() => {
  for (const m of held.splice(0)) m.release();
  vi.restoreAllMocks();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('the shared event-loop monitor', () => {
  it('sees a stalled loop: the stall in the recent maximum, and a mean delay and utilisation over the window', async () => {
    const m = acquireEventLoopMonitor();
    held.push(m);
    await sleep(1100); // two quiet windows
    const quiet = m.figures();
    expect(quiet.recentMaxMs).toBeLessThan(EVENT_LOOP_RESOLUTION_MS + 150);
    expect(quiet.heapUsedBytes).toBeGreaterThan(0);
    expect(quiet.rssBytes).toBeGreaterThanOrEqual(quiet.heapUsedBytes);
    // One stall of 400 ms: the sampler's next firing comes about that late.
    block(400);
    await sleep(60);
    expect(m.figures().recentMaxMs).toBeGreaterThanOrEqual(400 - EVENT_LOOP_RESOLUTION_MS);
    // A loop kept busy (200 ms stalls, a moment free between) over whole windows: a mean delay, and busy most of the time.
    const until = performance.now() + 1200;
    while (performance.now() < until) {
      block(200);
      await new Promise((r) => setImmediate(r));
    }
    const busy = m.figures();
    expect(busy.meanDelayMs).toBeGreaterThan(50);
    expect(busy.utilization).toBeGreaterThan(0.5);
  });

  it('is one sampler for every holder, stopped when the last lets go', () => {
    const spy = vi.spyOn(performance, 'eventLoopUtilization');
    const a = acquireEventLoopMonitor();
    const b = acquireEventLoopMonitor();
    // One start: the sampler reads the utilisation once when it starts.
    expect(spy).toHaveBeenCalledTimes(1);
    a.release();
    a.release(); // twice is once
    b.release();
    const c = acquireEventLoopMonitor();
    held.push(c);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
