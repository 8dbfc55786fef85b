import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { AdmissionGate, BUSY, SPARE } from './federation-gate.js';

// Waits longer than the windows the tests step through, except where a wait's end is the point.
const limits = { maxInFlight: 8, minInFlight: 2, maxQueued: 16, queueWaitMs: 60_000 };

/** A gate over a loop whose utilisation and sampler window the test sets (timers faked). */
function gateWith(overrides: Partial<typeof limits> = {}) {
  const loop = { u: 0.1, w: 0, figures: () => ({ utilization: loop.u, window: loop.w }) };
  const gate = new AdmissionGate({ ...limits, ...overrides }, loop);
  return {
    gate,
    loop,
    /** The sampler closes a window, and 500 ms pass (the gate's own look while reads wait). */
    window: () => {
      loop.w += 1;
      vi.advanceTimersByTime(500);
    },
    /** The sampler closes `n` windows before the gate's timer has looked. */
    windowsOnly: (n = 1) => {
      loop.w += n;
    },
  };
}

/** Enters `n` reads; the promises settle as the gate decides. */
const enterMany = (gate: AdmissionGate, n: number, signal?: AbortSignal) => Array.from({ length: n }, () => gate.enter(signal));
const settled = async (ps: Promise<boolean>[]) => {
  const states = ps.map(() => 'waiting' as string);
  ps.forEach((p, i) => void p.then((ok) => (states[i] = ok ? 'admitted' : 'refused')));
  await Promise.resolve();
  await Promise.resolve();
  return states;
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('federated reads admitted by a gate whose turns follow the event loop', () => {
  it('while the loop has time to spare: the maximum in hand, the queue bounded, the rest refused at once', async () => {
    const { gate } = gateWith({ maxQueued: 2 });
    const states = await settled(enterMany(gate, 11));
    expect(states.filter((s) => s === 'admitted')).toHaveLength(8);
    expect(states.slice(8, 10)).toEqual(['waiting', 'waiting']);
    expect(states[10]).toBe('refused');
    expect(gate.load).toEqual({ inFlight: 8, waiting: 2, turns: 8 });
  });

  it('while the loop is busy and reads compete: the turns drop to the minimum at once, the others wait in order', async () => {
    const { gate, loop, window } = gateWith();
    expect(await settled(enterMany(gate, 6))).toEqual(Array(6).fill('admitted'));
    loop.u = BUSY;
    window();
    // The first look at the busy window: 6 in hand, more than the minimum, so the turns drop from 8 to 2 and both newcomers wait.
    const more = enterMany(gate, 2);
    expect(await settled(more)).toEqual(['waiting', 'waiting']);
    expect(gate.load.turns).toBe(2);
    for (let i = 0; i < 4; i++) gate.leave();
    expect(gate.load).toEqual({ inFlight: 2, waiting: 2, turns: 2 });
    gate.leave();
    expect(await settled(more)).toEqual(['admitted', 'waiting']);
    // Never under the minimum, however long the loop stays busy.
    window();
    window();
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1, turns: 2 });
    gate.leave();
    expect(await settled(more)).toEqual(['admitted', 'admitted']);
    // Nothing waits: no timer is left behind.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a busy loop with no more reads in hand than the minimum keeps the turns: other load does not turn investigators away', async () => {
    const { gate, loop, window } = gateWith();
    loop.u = 1;
    gate.enter();
    for (let i = 0; i < 5; i++) {
      window();
      gate.enter();
      gate.leave();
    }
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0, turns: 8 });
  });

  it('under the spare mark the turns grow, reach the waiters unprompted, and a newcomer does not pass them', async () => {
    const { gate, loop, window, windowsOnly } = gateWith();
    enterMany(gate, 4);
    loop.u = 0.95;
    window();
    gate.enter(); // the look: 4 in hand, so the turns drop to 2; this one waits
    expect(gate.load).toEqual({ inFlight: 4, waiting: 1, turns: 2 });
    gate.leave();
    gate.leave();
    const waiting = enterMany(gate, 2);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 3, turns: 2 });
    // Between the marks the turns hold.
    loop.u = (BUSY + SPARE) / 2;
    window();
    expect(gate.load.turns).toBe(2);
    // Under the spare mark: one more turn, taken by the first waiter without anything entering or leaving.
    loop.u = SPARE - 0.01;
    window();
    expect(gate.load).toEqual({ inFlight: 3, waiting: 2, turns: 3 });
    // A newcomer whose look grows the turns: the waiters have them first.
    windowsOnly();
    const newcomer = gate.enter();
    expect(gate.load).toEqual({ inFlight: 4, waiting: 2, turns: 4 });
    expect(await settled([...waiting, newcomer])).toEqual(['admitted', 'waiting', 'waiting']);
    // After many quiet windows the turns are back at the maximum at once, not one a look.
    windowsOnly(20);
    gate.leave();
    expect(gate.load).toEqual({ inFlight: 5, waiting: 0, turns: 8 });
  });

  it('a read that waits past the queue wait is refused and takes no turn', async () => {
    const { gate } = gateWith({ maxInFlight: 2, queueWaitMs: 300 });
    enterMany(gate, 2);
    const late = enterMany(gate, 1);
    vi.advanceTimersByTime(300);
    expect(await settled(late)).toEqual(['refused']);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 0, turns: 2 });
    gate.leave();
    expect(gate.load.inFlight).toBe(1);
    vi.advanceTimersByTime(500);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a read whose client hangs up while it waits leaves the queue, takes no turn and is never admitted', async () => {
    const { gate } = gateWith({ maxInFlight: 1 });
    expect(await settled(enterMany(gate, 1))).toEqual(['admitted']);
    const client = new AbortController();
    const gone = enterMany(gate, 1, client.signal);
    const next = enterMany(gate, 1);
    client.abort();
    expect(await settled(gone)).toEqual(['refused']);
    expect(gate.load).toEqual({ inFlight: 1, waiting: 1, turns: 1 });
    gate.leave();
    // The turn went to the read behind it, not to the one whose client had gone.
    expect(await settled(next)).toEqual(['admitted']);
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0, turns: 1 });
    // A read whose client has already gone is refused without waiting.
    expect(await settled([gate.enter(AbortSignal.abort())])).toEqual(['refused']);
  });

  it('a minimum at or above the maximum keeps the turns fixed, however busy the loop', async () => {
    const { gate, loop, window } = gateWith({ maxInFlight: 2, minInFlight: 2 });
    loop.u = 1;
    enterMany(gate, 2);
    window();
    expect(await settled(enterMany(gate, 1))).toEqual(['waiting']);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1, turns: 2 });
    const wide = gateWith({ maxInFlight: 4, minInFlight: 9 });
    wide.loop.u = 1;
    enterMany(wide.gate, 4);
    wide.window();
    expect(await settled(enterMany(wide.gate, 1))).toEqual(['waiting']);
    expect(wide.gate.load).toEqual({ inFlight: 4, waiting: 1, turns: 4 });
  });
});
