import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createJobs, type JobsDeps } from './jobs.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Jobs over an audit service whose checkpoints the test ends when it says. */
function jobsWith(seconds: number) {
  const runs: (() => void)[] = [];
  let started = 0;
  const audit = {
    checkpoint: () => {
      started += 1;
      return new Promise<null>((resolve) => runs.push(() => resolve(null)));
    },
  };
  const logger = { error: vi.fn() };
  const jobs = createJobs({
    audit: audit as unknown as JobsDeps['audit'],
    peerEndpoint: null,
    auditCheckpointSeconds: seconds,
    logger: logger as unknown as JobsDeps['logger'],
  });
  return { jobs, runs, started: () => started };
}

describe("the node's timed jobs", () => {
  it('the first checkpoint comes between one period and one and a half after the start, then one a period, never two at once', async () => {
    const { jobs, runs, started } = jobsWith(60);
    jobs.start();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(started()).toBe(0);
    await vi.advanceTimersByTimeAsync(30_001);
    expect(started()).toBe(1);
    runs.shift()!();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(started()).toBe(2);
    // That one never ends: the next tick does not start another beside it.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(started()).toBe(2);
    let stopped = false;
    const stopping = jobs.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    // stop() waits for the run in progress, and nothing runs after it.
    expect(stopped).toBe(false);
    runs.shift()!();
    await stopping;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(started()).toBe(2);
  });

  it('nodes started together spread their first checkpoints over half a period', async () => {
    const firsts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { jobs, runs, started } = jobsWith(60);
      jobs.start();
      const t0 = Date.now();
      for (let t = 0; t < 90_000 && started() === 0; t += 500) await vi.advanceTimersByTimeAsync(500);
      firsts.push(Date.now() - t0);
      runs.shift()?.();
      await jobs.stop();
    }
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(60_000);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(90_000);
    expect(new Set(firsts.map((t) => Math.floor(t / 500))).size).toBeGreaterThan(1);
  });
});
