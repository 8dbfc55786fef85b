import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { AdmissionGate, BUSY, SPARE } from './federation-gate.js';

// Waits longer than the windows the tests step through, except where a wait's end is the point.
const limits = { maxInFlight: 8, minInFlight: 2, maxQueued: 16, queueWaitMs: 60_000 };

/** A gate over a loop whose utilisation the test sets, on a clock the test moves (timers faked alike). */
function gateWith(overrides: Partial<typeof limits> = {}) {
  let t = 0;
  const loop = { u: 0.1, utilization: () => loop.u };
  const gate = new AdmissionGate({ ...limits, ...overrides }, loop, () => t);
  return {
    gate,
    loop,
    /** One sampler window (500 ms) on, timers included. */
    window: () => {
      t += 500;
      vi.advanceTimersByTime(500);
    },
    /** The clock alone one window on: the gate's own timer has not looked yet. */
    clockOnly: () => {
      t += 500;
    },
  };
}

/** Enters `n` reads; the promises settle as the gate decides. */
const enterMany = (gate: AdmissionGate, n: number) => Array.from({ length: n }, () => gate.enter());
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

  it('while the loop is busy: the turns halve each window down to the minimum, and reads wait in the order they came', async () => {
    const { gate, loop, window } = gateWith();
    loop.u = BUSY;
    window();
    const first = enterMany(gate, 6);
    // 8 halved to 4: four in hand, two waiting although fewer than the maximum are in flight.
    expect(await settled(first)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'waiting', 'waiting']);
    window();
    gate.leave();
    gate.leave();
    gate.leave();
    // Halved again to 2: three left, one in hand; the first waiter only.
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1, turns: 2 });
    expect(await settled(first)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'waiting']);
    window();
    gate.leave();
    // Never under the minimum.
    expect(gate.load).toEqual({ inFlight: 2, waiting: 0, turns: 2 });
    // Late arrivals wait their turn, in order.
    const late = enterMany(gate, 2);
    expect(await settled(late)).toEqual(['waiting', 'waiting']);
    gate.leave();
    expect(await settled(late)).toEqual(['admitted', 'waiting']);
  });

  it('once the loop is back under the spare mark, the turns grow by one a window and reach the waiters unprompted', async () => {
    const { gate, loop, window, clockOnly } = gateWith();
    loop.u = 0.95;
    window();
    gate.enter();
    window();
    gate.enter();
    expect(gate.load.turns).toBe(2);
    const waiting = enterMany(gate, 3);
    expect(await settled(waiting)).toEqual(['waiting', 'waiting', 'waiting']);
    // Between the marks the turns hold.
    loop.u = (BUSY + SPARE) / 2;
    window();
    expect(await settled(waiting)).toEqual(['waiting', 'waiting', 'waiting']);
    // Nothing enters or leaves: the gate's own look each window admits them as the turns grow.
    loop.u = SPARE - 0.01;
    // The window's look happens on the timer; the clock was moved first, so it sees a window gone by.
    window();
    expect(gate.load.turns).toBe(3);
    expect(await settled(waiting)).toEqual(['admitted', 'waiting', 'waiting']);
    // A newcomer whose arrival grows the turns does not pass the reads already waiting.
    clockOnly();
    const newcomer = gate.enter();
    expect(gate.load.turns).toBe(4);
    expect(await settled([...waiting, newcomer])).toEqual(['admitted', 'admitted', 'waiting', 'waiting']);
  });

  it('a read that waits past the queue wait is refused and takes no turn', async () => {
    const { gate, loop, window } = gateWith({ queueWaitMs: 300 });
    loop.u = 0.99;
    window();
    enterMany(gate, 4);
    const late = enterMany(gate, 1);
    vi.advanceTimersByTime(300);
    expect(await settled(late)).toEqual(['refused']);
    expect(gate.load).toEqual({ inFlight: 4, waiting: 0, turns: 4 });
    gate.leave();
    expect(gate.load.inFlight).toBe(3);
  });

  it('a minimum at or above the maximum keeps the turns fixed, however busy the loop', async () => {
    const { gate, loop, window } = gateWith({ maxInFlight: 2, minInFlight: 2 });
    loop.u = 1;
    window();
    window();
    expect(await settled(enterMany(gate, 3))).toEqual(['admitted', 'admitted', 'waiting']);
    expect(gate.load.turns).toBe(2);
    const wide = gateWith({ maxInFlight: 4, minInFlight: 9 });
    wide.loop.u = 1;
    wide.window();
    expect(await settled(enterMany(wide.gate, 4))).toEqual(['admitted', 'admitted', 'admitted', 'admitted']);
  });
});
