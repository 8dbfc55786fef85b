import { describe, expect, it } from 'vitest';

import { MAX_WAIT_MS, waitMsAt, waitMsFor } from './filter-refresher.js';

describe('how long a caller asks an owner to hold its poll', () => {
  it('a third of a filter’s life, at most MAX_WAIT_MS', () => {
    expect(waitMsFor(15_000)).toBe(5000);
    expect(waitMsFor(6000)).toBe(2000);
    expect(waitMsFor(600_000)).toBe(MAX_WAIT_MS);
  });

  it('cut so the answer comes while the copy is still fresh, and nothing for a stale copy', () => {
    // Just confirmed: the whole hold.
    expect(waitMsAt(15_000, 0)).toBe(5000);
    // Confirmed 10 s ago (a long MCX_LOCATOR_POLL_MS after a change): 15 - 10 - 2 s of margin.
    expect(waitMsAt(15_000, 10_000)).toBe(3000);
    // Nearly stale, stale, or after a pause: answered at once.
    expect(waitMsAt(15_000, 13_500)).toBe(0);
    expect(waitMsAt(15_000, 60_000)).toBe(0);
    // A short life: the margin is a quarter of it.
    expect(waitMsAt(3000, 0)).toBe(1000);
    expect(waitMsAt(3000, 1500)).toBe(750);
  });
});
