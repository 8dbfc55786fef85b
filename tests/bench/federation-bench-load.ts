// How tests/bench/federation-bench.ts loads a federation: open and closed loops, the warm-up before
// a run and the settle after an overloaded one.
import { NODE_ENV, tally, type Answer } from './federation-bench-nodes.js';
import { percentile, sleep, type BenchServer } from './federation-bench-support.js';

/** CPU ms used so far by what the bench measures: this process, or every node process and this one. */
export type CpuMeter = () => Promise<number>;
const processCpuMs: CpuMeter = async () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

export interface RunResult {
  queries: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  completePct: number;
  failed: number;
  /** Refused at once by the caller (503, Retry-After). */
  shed: number;
  wrongCount: number;
  problems: Map<string, number>;
  cpuMsPerQuery: number;
  pgMsPerQuery: number | null;
  /** The latest any request left after its scheduled time, ms. */
  maxSendLagMs: number;
  /**
   * The investigator's own CPU ms per query when it asks from a process of its own
   * (federation-bench-investigator.ts), apart from cpuMsPerQuery; null when it asks from the
   * measured process, where cpuMsPerQuery counts it.
   */
  clientCpuMsPerQuery: number | null;
}

/** Open loop: `rate` arrivals per second for `seconds`, each sent at its scheduled time. */
export async function openLoop(
  server: Pick<BenchServer, 'cpuMs'>,
  ask: () => Promise<Answer>,
  expected: number,
  rate: number,
  seconds: number,
  cpuMs: CpuMeter = processCpuMs,
): Promise<RunResult> {
  const n = Math.round(rate * seconds);
  const period = 1000 / rate;
  const latencies: number[] = [];
  let complete = 0;
  let failed = 0;
  let shed = 0;
  let wrongCount = 0;
  const problems = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const cpu0 = await cpuMs();
  const pg0 = server.cpuMs();
  const t0 = performance.now() + 5;
  let maxSendLagMs = 0;
  for (let i = 0; i < n; i++) {
    const at = t0 + i * period;
    const wait = at - performance.now();
    if (wait > 0.5) await sleep(wait);
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - at);
    pending.push(
      ask().then(
        (a) => {
          if (a.shed) return void shed++;
          latencies.push(performance.now() - at);
          if (a.complete) complete++;
          // COMPLETE yet not every member's episodes would be a bug, not load.
          if (a.complete && a.strong !== expected) wrongCount++;
          tally(problems, a.problems);
        },
        () => {
          latencies.push(performance.now() - at);
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const cpu = (await cpuMs()) - cpu0;
  const pg1 = server.cpuMs();
  return {
    queries: n,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    // Of the queries the caller took on (those it shed are counted apart).
    completePct: (100 * complete) / Math.max(1, n - shed),
    failed,
    shed,
    wrongCount,
    problems,
    cpuMsPerQuery: cpu / n,
    pgMsPerQuery: pg0 !== null && pg1 !== null ? (pg1 - pg0) / n : null,
    maxSendLagMs,
    clientCpuMsPerQuery: null,
  };
}

/** Closed loop: `concurrency` investigators each asking again as soon as answered. */
export async function closedLoop(ask: () => Promise<Answer>, concurrency: number, seconds: number, cpuMs: CpuMeter = processCpuMs) {
  const cpu0 = await cpuMs();
  const started = performance.now();
  const end = started + seconds * 1000;
  const latencies: number[] = [];
  let done = 0;
  let complete = 0;
  let failed = 0;
  let shed = 0;
  const problems = new Map<string, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const a = await ask();
          if (a.shed) {
            // As a client told Retry-After would.
            shed++;
            await sleep(2000);
            continue;
          }
          if (a.complete) complete++;
          tally(problems, a.problems);
        } catch {
          failed++;
        }
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  return {
    concurrency,
    done,
    qps: done / wall,
    cpuMsPerQuery: ((await cpuMs()) - cpu0) / Math.max(1, done),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    completePct: (100 * complete) / Math.max(1, done),
    failed,
    shed,
    problems,
    clientCpuMsPerQuery: null as number | null,
    /**
     * The share of the run the nodes' event loop was busy (0 to 1), where the nodes share one
     * process apart from the investigator's; null otherwise. Near 1, that one thread bounds the rate.
     */
    nodesLoopBusy: null as number | null,
  };
}

/** Sequential queries until the federation answers COMPLETE with every episode 3 times running (cold JIT can time a member out). */
export async function warmUp(ask: () => Promise<Answer>, expected: number) {
  let good = 0;
  let last: Answer | null = null;
  for (let i = 0; i < 30 && good < 3; i++) {
    last = await ask();
    good = last.complete && last.strong === expected ? good + 1 : 0;
  }
  if (good < 3)
    throw new Error(
      `the federation does not answer completely: ${last?.strong} strong episodes (expected ${expected}); ${last?.problems.join(', ')}`,
    );
}

/** After an overloaded phase: lets opened breakers half-open (MCX_PEER_BREAKER_HALF_OPEN_MS) and waits for a COMPLETE answer. */
export async function settle(ask: () => Promise<Answer>) {
  await sleep(Number(NODE_ENV.MCX_PEER_BREAKER_HALF_OPEN_MS) + 500);
  for (let i = 0; i < 10; i++) {
    if ((await ask()).complete) return;
    await sleep(1000);
  }
}

/**
 * CPU ms a second of the idle process (every node, nothing asked), over `ms`. The nodes' periodic
 * jobs (an audit checkpoint a minute at each node, the ten spread over half a minute) land in some windows
 * and not others: a short window swings with them, so the benches take 10 s.
 */
export async function idleCpuRate(ms = 10_000, cpuMs: CpuMeter = processCpuMs): Promise<number> {
  const c0 = await cpuMs();
  const t0 = performance.now();
  await sleep(ms);
  return ((await cpuMs()) - c0) / ((performance.now() - t0) / 1000);
}
