// Tables tests/bench/federation-bench.ts prints for each topology: the open-loop runs and the
// closed-loop saturation runs.
import type { closedLoop, RunResult } from './federation-bench-load.js';
import { showTally } from './federation-bench-nodes.js';

export type ClosedResult = Awaited<ReturnType<typeof closedLoop>>;

export const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
export const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
export const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
export const pad = (s: string, n: number) => s.padEnd(n);
export const lpad = (s: string, n: number) => s.padStart(n);
export const out = (s = '') => process.stdout.write(`${s}\n`);
const pgs = (x: number | null) => (x === null ? 'n/a' : f1(x));

export function printOpenLoops(runs: [string, RunResult][], notClosed: Map<string, string[]>, expected: number) {
  out(
    `${pad('rate', 7)}${lpad('sent', 6)}${lpad('send lag', 10)}${lpad('p50', 8)}${lpad('p95', 8)}${lpad('p99', 8)}${lpad('max', 8)}${lpad('shed', 6)}${lpad('COMPLETE', 10)}${lpad('failed', 8)}${lpad('cpu ms/q', 10)}${lpad('pg ms/q', 9)}`,
  );
  for (const [label, r] of runs) {
    out(
      `${pad(label, 7)}${lpad(String(r.queries), 6)}${lpad(f0(r.maxSendLagMs), 10)}${lpad(f0(r.p50), 8)}${lpad(f0(r.p95), 8)}${lpad(f0(r.p99), 8)}${lpad(f0(r.max), 8)}${lpad(String(r.shed), 6)}${lpad(`${f1(r.completePct)}%`, 10)}${lpad(String(r.failed), 8)}${lpad(f1(r.cpuMsPerQuery), 10)}${lpad(pgs(r.pgMsPerQuery), 9)}`,
    );
  }
  out('  (shed: refused at once by the caller, 503 with Retry-After; latency and COMPLETE are of the queries it took on)');
  const apart = runs.filter(([, r]) => r.clientCpuMsPerQuery !== null);
  if (apart.length)
    out(
      `  (cpu ms/q: the nodes' and the linkage service's process; the investigator asks from a process of its own, whose client CPU ms/q is apart: ${apart.map(([label, r]) => `${label} ${f1(r.clientCpuMsPerQuery!)}`).join(', ')})`,
    );
  out(
    `  (send lag: the latest a request left after its scheduled time, ms: the load generator shares its event loop with ${apart.length ? 'nothing else' : 'whatever runs in this process'})`,
  );
  for (const [label, r] of runs) {
    if (r.problems.size) out(`  ${label}: members not answering (status/reason x count): ${showTally(r.problems)}`);
    if (r.wrongCount) out(`  ${label}: ${r.wrongCount} COMPLETE answers had a strong-episode count other than ${expected}`);
  }
  for (const [label, codes] of notClosed)
    if (codes.length) out(`  ${label}: breakers not closed at the caller right after the run: ${codes.join(', ')}`);
}

export function printClosedLoops(closed: ClosedResult[]) {
  const loop = closed.some((c) => c.nodesLoopBusy !== null);
  out(
    `${pad('in flight', 11)}${lpad('queries/s', 11)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('COMPLETE', 10)}${lpad('failed', 8)}${lpad('cpu ms/q', 10)}${loop ? lpad('loop busy', 11) : ''}`,
  );
  for (const c of closed)
    out(
      `${pad(String(c.concurrency), 11)}${lpad(f1(c.qps), 11)}${lpad(f0(c.p50), 9)}${lpad(f0(c.p99), 9)}${lpad(`${f1(c.completePct)}%`, 10)}${lpad(String(c.failed), 8)}${lpad(f1(c.cpuMsPerQuery), 10)}${loop ? lpad(c.nodesLoopBusy === null ? '-' : `${f0(100 * c.nodesLoopBusy)}%`, 11) : ''}`,
    );
  if (loop)
    out("  loop busy: the share of the run the nodes' one event loop was busy; near 100% that thread, not the cores, bounds the rate");
  for (const c of closed) if (c.problems.size) out(`  ${c.concurrency} in flight: members not answering: ${showTally(c.problems)}`);
  for (const c of closed) if (c.shed) out(`  ${c.concurrency} in flight: ${c.shed} shed (503; the client waited 2 s before asking again)`);
  const { best, bestComplete } = saturation(closed);
  out(
    `best: ${f1(best.qps)} queries/s at ${best.concurrency} in flight; best with every answer COMPLETE: ${f1(bestComplete.qps)} queries/s at ${bestComplete.concurrency}`,
  );
}

export function saturation(closed: ClosedResult[]) {
  const best = closed.reduce((x, y) => (y.qps > x.qps ? y : x));
  const bestComplete = closed.filter((c) => c.completePct === 100).reduce((x, y) => (y.qps > x.qps ? y : x), { qps: 0, concurrency: 0 });
  return { best, bestComplete };
}
