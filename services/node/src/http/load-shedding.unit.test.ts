import { describe, expect, it } from 'vitest';

import { overloadReason } from './load-shedding.js';

const quiet = { meanDelayMs: 2, recentMaxMs: 60, utilization: 0.1, heapUsedBytes: 50e6, rssBytes: 120e6 };
const off = { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, maxHeapUsedBytes: 0, maxRssBytes: 0, retryAfterSeconds: 10 };

describe('which bound the node is past', () => {
  it('none while every figure is under its bound, or its bound is 0 (off)', () => {
    expect(
      overloadReason(quiet, { ...off, maxEventLoopDelayMs: 1000, maxEventLoopUtilization: 0.98, maxHeapUsedBytes: 1e9, maxRssBytes: 1e9 }),
    ).toBeNull();
    expect(overloadReason({ ...quiet, meanDelayMs: 5000, utilization: 1, heapUsedBytes: 9e9, rssBytes: 9e9 }, off)).toBeNull();
  });

  it('names each bound passed', () => {
    expect(overloadReason({ ...quiet, meanDelayMs: 1001 }, { ...off, maxEventLoopDelayMs: 1000 })).toBe('EVENT_LOOP_DELAY');
    // Nothing sampled in a window (the loop never came round): overloaded.
    expect(overloadReason({ ...quiet, meanDelayMs: Infinity }, { ...off, maxEventLoopDelayMs: 1000 })).toBe('EVENT_LOOP_DELAY');
    expect(overloadReason({ ...quiet, utilization: 0.99 }, { ...off, maxEventLoopUtilization: 0.98 })).toBe('EVENT_LOOP_UTILIZATION');
    expect(overloadReason({ ...quiet, heapUsedBytes: 2e6 }, { ...off, maxHeapUsedBytes: 1e6 })).toBe('HEAP_USED');
    expect(overloadReason({ ...quiet, rssBytes: 2e6 }, { ...off, maxRssBytes: 1e6 })).toBe('RSS');
    // At the bound is not past it.
    expect(overloadReason({ ...quiet, meanDelayMs: 1000 }, { ...off, maxEventLoopDelayMs: 1000 })).toBeNull();
  });
});
