import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { AdmissionGate, BUSY, processLoop, SPARE } from './federation-gate.js';

// Waits longer than the time the tests step through, except where a wait's end is the point.
const limits = { maxInFlight: 8, minInFlight: 2, maxQueued: 16, queueWaitMs: 60_000 };

/** A gate over a loop whose utilisation the test sets, time passing as the test says (timers faked alike). */
function gateWith(overrides: Partial<typeof limits> = {}) {
  const loop = {
    u: 0.1,
    /** Time since the gate's last look (ms). */
    pending: 0,
    look(minMs: number) {
      if (loop.pending < minMs) return null;
      const seen = { utilization: loop.u, ms: loop.pending };
      loop.pending = 0;
      return seen;
    },
  };
  const gate = new AdmissionGate({ ...limits, ...overrides }, loop);
  return {
    gate,
    loop,
    /** `ms` pass, timers included (the gate looks every 100 ms while reads wait). */
    pass: (ms: number) => {
      loop.pending += ms;
      vi.advanceTimersByTime(ms);
    },
    /** `ms` pass before the gate's timer has looked. */
    passOnly: (ms: number) => {
      loop.pending += ms;
    },
  };
}

/** Drives a fresh gate to its minimum: 4 reads in hand and one arriving on a busy loop halve 8 to 4, the next look to 2; the fifth waits. */
function atTheMinimum(g: ReturnType<typeof gateWith>) {
  enterMany(g.gate, 4);
  g.loop.u = 0.95;
  g.pass(100);
  g.gate.enter();
  g.pass(100);
  expect(g.gate.load).toEqual({ inFlight: 4, waiting: 1, turns: 2 });
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

  it('while the loop is busy and reads compete: the turns halve at each look down to the minimum, the others wait in order', async () => {
    const { gate, loop, pass } = gateWith();
    expect(await settled(enterMany(gate, 6))).toEqual(Array(6).fill('admitted'));
    loop.u = BUSY;
    pass(100);
    // The first look at a busy loop: 6 in hand and one arriving, more than the minimum, so 8 halves to 4 and both newcomers wait.
    const more = enterMany(gate, 2);
    expect(await settled(more)).toEqual(['waiting', 'waiting']);
    expect(gate.load.turns).toBe(4);
    // The next look, 100 ms on, with nothing entering or leaving: 2.
    pass(100);
    expect(gate.load.turns).toBe(2);
    for (let i = 0; i < 4; i++) gate.leave();
    expect(gate.load).toEqual({ inFlight: 2, waiting: 2, turns: 2 });
    gate.leave();
    expect(await settled(more)).toEqual(['admitted', 'waiting']);
    // Never under the minimum, however long the loop stays busy.
    pass(1000);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1, turns: 2 });
    gate.leave();
    expect(await settled(more)).toEqual(['admitted', 'admitted']);
    // Nothing waits: no timer is left behind.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a busy loop with no more reads in hand than the minimum keeps the turns: other load does not turn investigators away', async () => {
    const { gate, loop, pass } = gateWith();
    loop.u = 1;
    gate.enter();
    for (let i = 0; i < 5; i++) {
      pass(200);
      gate.enter();
      gate.leave();
    }
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0, turns: 8 });
  });

  it('a look over less than 100 ms changes nothing', async () => {
    const { gate, loop, pass } = gateWith();
    enterMany(gate, 4);
    loop.u = 1;
    pass(99);
    gate.enter();
    expect(gate.load.turns).toBe(8);
    pass(1);
    gate.enter();
    expect(gate.load.turns).toBe(4);
  });

  it('between the marks, with no more reads to serve than the minimum, the turns grow back; while busy they do not', async () => {
    const g = gateWith();
    const { gate, loop, pass } = g;
    atTheMinimum(g);
    for (let i = 0; i < 4; i++) gate.leave();
    // One read in hand and the loop still busy: the turns stay down (at 80% a node serving reads one or two at a time would creep back up, and share the CPU again at the next burst).
    pass(1000);
    gate.enter();
    gate.leave();
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0, turns: 2 });
    // One read in hand, the loop 60% busy with other work.
    loop.u = (BUSY + SPARE) / 2;
    pass(500);
    gate.enter();
    gate.leave();
    expect(gate.load).toEqual({ inFlight: 1, waiting: 0, turns: 3 });
    pass(3000);
    gate.enter();
    expect(gate.load).toEqual({ inFlight: 2, waiting: 0, turns: 8 });
  });

  it('under the spare mark the turns grow one per 500 ms, reach the waiters unprompted, and a newcomer does not pass them', async () => {
    const g = gateWith();
    const { gate, loop, pass, passOnly } = g;
    atTheMinimum(g);
    gate.leave();
    gate.leave();
    const waiting = enterMany(gate, 2);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 3, turns: 2 });
    // Between the marks the turns hold.
    loop.u = (BUSY + SPARE) / 2;
    pass(500);
    expect(gate.load.turns).toBe(2);
    // Under the spare mark: 400 ms earn nothing yet; at 500 one more turn, taken by the first waiter without anything entering or leaving.
    loop.u = SPARE - 0.01;
    pass(400);
    expect(gate.load.turns).toBe(2);
    pass(100);
    expect(gate.load).toEqual({ inFlight: 3, waiting: 2, turns: 3 });
    // A newcomer whose look grows the turns: the waiters have them first.
    passOnly(500);
    const newcomer = gate.enter();
    expect(gate.load).toEqual({ inFlight: 4, waiting: 2, turns: 4 });
    expect(await settled([...waiting, newcomer])).toEqual(['admitted', 'waiting', 'waiting']);
    // After a long quiet spell the turns are back at the maximum at the next look.
    passOnly(10_000);
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
    const { gate, loop, pass } = gateWith({ maxInFlight: 2, minInFlight: 2 });
    loop.u = 1;
    enterMany(gate, 2);
    pass(100);
    expect(await settled(enterMany(gate, 1))).toEqual(['waiting']);
    expect(gate.load).toEqual({ inFlight: 2, waiting: 1, turns: 2 });
    const wide = gateWith({ maxInFlight: 4, minInFlight: 9 });
    wide.loop.u = 1;
    enterMany(wide.gate, 4);
    wide.pass(100);
    expect(await settled(enterMany(wide.gate, 1))).toEqual(['waiting']);
    expect(wide.gate.load).toEqual({ inFlight: 4, waiting: 1, turns: 4 });
  });
});

describe("the process's event loop as the gate reads it", () => {
  it('busy while a callback holds it, idle while it waits; nothing taken before the shortest span', async () => {
    vi.useRealTimers();
    const loop = processLoop();
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // busy: the loop runs nothing else meanwhile
    }
    const busy = loop.look(100);
    expect(busy!.ms).toBeGreaterThanOrEqual(150);
    expect(busy!.utilization).toBeGreaterThan(0.9);
    expect(loop.look(100)).toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    const idle = loop.look(100);
    expect(idle!.ms).toBeGreaterThanOrEqual(190);
    expect(idle!.utilization).toBeLessThan(SPARE);
  });
});
