// What does one federated read cost, and how does it grow with the federation?
//   npm run bench:federation        (= npx tsx tests/bench/federation-bench.ts; about 2-3 minutes)
//
// Setup: one embedded PostgreSQL (or DATABASE_URL's server) with one database per node; a real
// federation from tests/testkit/federation.ts (operator key, signed manifest offering
// mcx.history/1, the linkage service on loopback) and 10 real nodes on loopback, all in this one
// process. The same synthetic child is published at every node with 3 episodes each. The
// investigator at WMP asks federatedEpisodes(identity); WMP asks all 10 members (itself included)
// over POST /peer/v1 and verifies every record and receipt.
//
// Measured (the floor's parts first: their warm-ups also warm the members up):
//   1. Open-loop arrivals at 2/s (a rate this machine sustains), 5/s and 20/s, 15 s each after a
//      warm-up: requests go out at their scheduled times whether or not earlier ones have
//      answered; latency is counted from the scheduled time, so queueing shows. p50/p95/p99, the
//      share of COMPLETE answers, and which members did not answer and why.
//   2. CPU per federated query: process.cpuUsage() over each fixed-rate run / queries. Every node,
//      the linkage service and the investigator's client run in this process, so this is their
//      total; PostgreSQL's own CPU (read from /proc for the embedded server) is shown beside it.
//      The headline is the 2/s run, where answers are COMPLETE (a partial answer costs less).
//   3. The floor that CPU is compared with, from parts microbenchmarked in the same run:
//      (a) one member answering PEER_HISTORY: N direct POST /peer/v1 requests to one node through
//          the same fan-out client the caller uses, with fresh node tokens signed beforehand;
//          whole-request CPU (both HTTP ends, token check, jti insert, GraphQL execution,
//          disclosure commit, receipt). Shown net of (b)'s verify and one (d) commit, which are
//          listed under their own headings so nothing counts twice.
//      (b) node token sign + verify (signNodeToken / verifyNodeToken against the manifest);
//      (c) Ed25519 verification: verifyRecord x records per answer, plus the answer's receipt;
//      (d) durable audit commits through the node's AuditService.record, one at a time:
//          1 consultation + 1 combination at the caller + 1 disclosure per member.
//      Floor = per-query sum for N members. Measured but outside the floor: deriving the child's
//      linkage keys through the linkage service (one OPRF round trip per query).
//   4. Saturation: closed loop at concurrency 1, 2, 4, 8, 16 (4 s each): queries/s.
//   5. Growth: a fresh 3-node federation, the 2/s and 5/s runs again, side by side (the 3-node
//      floor is computed from the same parts).
// Breakers are as shipped (open after 5 consecutive failures) except that they half-open after
// 2 s, not 30 s, and each phase starts after a settle: an overloaded phase would otherwise leave
// the next one answering CIRCUIT_OPEN for half a minute.
// No personal data is printed: the synthetic identity is only ever sent, never logged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { floorFor, measureParts } from './federation-bench-floor.js';
import { closedLoop, idleCpuRate, openLoop, settle, warmUp, type RunResult } from './federation-bench-load.js';
import {
  asker,
  CLOSED_LOOP_SECONDS,
  CONCURRENCY,
  EPISODES_PER_NODE,
  logCounts,
  OPEN_LOOP_SECONDS,
  showTally,
  startFederation,
  SUSTAINABLE_RATE,
  TEN,
  THREE,
  type BenchFederation,
} from './federation-bench-nodes.js';
import { startBenchServer } from './federation-bench-support.js';

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

// Ten nodes, a linkage service and the embedded server's child processes share this process's signal handlers.
process.setMaxListeners(64);
const benchStarted = performance.now();
const server = await startBenchServer();
const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-fedbench-'));
let ten: BenchFederation | null = null;
let three: BenchFederation | null = null;
let exitCode = 0;
const out = (s = '') => process.stdout.write(`${s}\n`);

try {
  out(`federation bench: PostgreSQL ${server.kind} (${server.settings}); Node ${process.version}; all nodes in one process`);
  let t = performance.now();
  ten = await startFederation(server, TEN, dataDir);
  out(
    `started ${TEN.length} nodes (a database each) + linkage service, child published with ${EPISODES_PER_NODE} episodes at each, in ${f1((performance.now() - t) / 1000)} s`,
  );
  const ask10 = asker(ten);
  const expected10 = TEN.length * EPISODES_PER_NODE;
  await warmUp(ask10, expected10);
  // The parts first: their own warm-ups also warm the members' code before the timed runs.
  out('10 nodes: floor microbenchmarks ...');
  const parts = await measureParts(server, ten);
  await closedLoop(ask10, 1, 4); // warm-up, discarded
  const idle10 = await idleCpuRate();

  const runs10: [string, RunResult][] = [];
  for (const rate of [SUSTAINABLE_RATE, 5, 20]) {
    out(`10 nodes: open loop ${rate}/s for ${OPEN_LOOP_SECONDS} s ...`);
    await settle(ask10);
    runs10.push([`${rate}/s`, await openLoop(server, ask10, expected10, rate, OPEN_LOOP_SECONDS)]);
  }
  const [rSus, r5] = [runs10[0]![1], runs10[1]![1]];
  out(`10 nodes: closed loop at ${CONCURRENCY.join(', ')} in flight, ${CLOSED_LOOP_SECONDS} s each ...`);
  const closed = [];
  for (const c of CONCURRENCY) {
    await settle(ask10);
    closed.push(await closedLoop(ask10, c, CLOSED_LOOP_SECONDS));
  }
  await ten.close();
  ten = null;

  out(`3 nodes: fresh federation, open loop ${SUSTAINABLE_RATE}/s and 5/s ...`);
  t = performance.now();
  three = await startFederation(server, THREE, dataDir);
  const ask3 = asker(three);
  const expected3 = THREE.length * EPISODES_PER_NODE;
  await warmUp(ask3, expected3);
  await closedLoop(ask3, 1, 4); // warm-up, discarded
  const rSus3 = await openLoop(server, ask3, expected3, SUSTAINABLE_RATE, OPEN_LOOP_SECONDS);
  await settle(ask3);
  const r53 = await openLoop(server, ask3, expected3, 5, OPEN_LOOP_SECONDS);
  await three.close();
  three = null;

  const floor10 = floorFor(parts, TEN.length);
  const floor3 = floorFor(parts, THREE.length);
  const best = closed.reduce((x, y) => (y.qps > x.qps ? y : x));
  const bestComplete = closed.filter((c) => c.completePct === 100).reduce((x, y) => (y.qps > x.qps ? y : x), { qps: 0, concurrency: 0 });
  const pgs = (x: number | null) => (x === null ? 'n/a' : f1(x));

  out();
  out('=== Latency, open loop (ms from the scheduled send time), 10 nodes ===');
  out(
    `${pad('rate', 7)}${lpad('sent', 6)}${lpad('send lag', 10)}${lpad('p50', 8)}${lpad('p95', 8)}${lpad('p99', 8)}${lpad('max', 8)}${lpad('COMPLETE', 10)}${lpad('failed', 8)}${lpad('cpu ms/q', 10)}${lpad('pg ms/q', 9)}`,
  );
  for (const [label, r] of runs10) {
    out(
      `${pad(label, 7)}${lpad(String(r.queries), 6)}${lpad(f0(r.maxSendLagMs), 10)}${lpad(f0(r.p50), 8)}${lpad(f0(r.p95), 8)}${lpad(f0(r.p99), 8)}${lpad(f0(r.max), 8)}${lpad(`${f1(r.completePct)}%`, 10)}${lpad(String(r.failed), 8)}${lpad(f1(r.cpuMsPerQuery), 10)}${lpad(pgs(r.pgMsPerQuery), 9)}`,
    );
  }
  out('  (send lag: the latest a request left after its scheduled time, ms: the load generator shares the event loop with the nodes)');
  for (const [label, r] of runs10) {
    if (r.problems.size) out(`  ${label}: members not answering (status/reason x count): ${showTally(r.problems)}`);
    if (r.wrongCount) out(`  ${label}: ${r.wrongCount} COMPLETE answers had a strong-episode count other than ${expected10}`);
  }

  out();
  out('=== Saturation, closed loop, 10 nodes ===');
  out(
    `${pad('in flight', 11)}${lpad('queries/s', 11)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('COMPLETE', 10)}${lpad('failed', 8)}${lpad('cpu ms/q', 10)}`,
  );
  for (const c of closed)
    out(
      `${pad(String(c.concurrency), 11)}${lpad(f1(c.qps), 11)}${lpad(f0(c.p50), 9)}${lpad(f0(c.p99), 9)}${lpad(`${f1(c.completePct)}%`, 10)}${lpad(String(c.failed), 8)}${lpad(f1(c.cpuMsPerQuery), 10)}`,
    );
  for (const c of closed) if (c.problems.size) out(`  ${c.concurrency} in flight: members not answering: ${showTally(c.problems)}`);
  out(
    `best: ${f1(best.qps)} queries/s at ${best.concurrency} in flight; best with every answer COMPLETE: ${f1(bestComplete.qps)} queries/s at ${bestComplete.concurrency}`,
  );

  out();
  out(
    `=== CPU per federated query vs its floor (this process; 10 members; ${SUSTAINABLE_RATE}/s run, ${f1(rSus.completePct)}% COMPLETE) ===`,
  );
  out(
    `measured:  ${lpad(f1(rSus.cpuMsPerQuery), 6)} ms/query   (5/s run: ${f1(r5.cpuMsPerQuery)} at ${f1(r5.completePct)}% COMPLETE; idle background ${f1(idle10)} ms/s = ${f1(idle10 / SUSTAINABLE_RATE)} ms/query at ${SUSTAINABLE_RATE}/s)`,
  );
  out(`floor:     ${lpad(f1(floor10.total), 6)} ms/query   measured/floor = ${f2(rSus.cpuMsPerQuery / floor10.total)}`);
  out(
    `  (a) members' PEER_HISTORY answers   ${lpad(f1(floor10.a), 6)}  = 10 x ${f2(parts.peerCpu - parts.verifyUs / 1000 - parts.commitCpu)}  [direct POST /peer/v1, whole: ${f2(parts.peerCpu)} ms CPU, ${f2(parts.peerWall)} ms wall; less its token verify and disclosure commit]`,
  );
  out(`  (b) node token sign + verify         ${lpad(f1(floor10.b), 6)}  = 10 x (${f0(parts.signUs)} + ${f0(parts.verifyUs)} us)`);
  out(
    `  (c) Ed25519 verify, records+receipt  ${lpad(f1(floor10.c), 6)}  = 10 x (${parts.recordsPerAnswer} x ${f0(parts.recordVerifyUs)} + ${f0(parts.receiptVerifyUs)} us)`,
  );
  out(
    `  (d) durable audit commits            ${lpad(f1(floor10.d), 6)}  = (2 + 10) x ${f2(parts.commitCpu)} ms  [${f2(parts.commitWall)} ms wall each, one at a time]`,
  );
  out(
    `  outside the floor: the identity's ${parts.linkageKeys} linkage keys (OPRF round trip to the in-process linkage service): ${f1(parts.linkageCpu)} ms`,
  );
  out(
    `  floor + linkage = ${f1(floor10.total + parts.linkageCpu)} ms/query; measured/(floor + linkage) = ${f2(rSus.cpuMsPerQuery / (floor10.total + parts.linkageCpu))}`,
  );
  const share = (x: number) => `${f0((100 * x) / rSus.cpuMsPerQuery)}%`;
  out(
    `  shares of the measured CPU/query: linkage ${share(parts.linkageCpu)}, members' answers whole (a + verify + disclosure commits) ${share(TEN.length * parts.peerCpu)}, ` +
      `caller's commits ${share(2 * parts.commitCpu)}, caller's Ed25519 (sign + record/receipt verify) ${share(floor10.c + (TEN.length * parts.signUs) / 1000)}, unexplained (measured - floor - linkage) ${share(rSus.cpuMsPerQuery - parts.linkageCpu - floor10.total)}`,
  );
  out(
    `  PostgreSQL server CPU: ${pgs(rSus.pgMsPerQuery)} ms/query measured vs ${pgs(floor10.pg)} from parts (10 x ${pgs(parts.peerPg)} per answer + 2 x ${pgs(parts.commitPg)} per commit)`,
  );

  out();
  out('=== Growth, 3 nodes -> 10 nodes (open loop) ===');
  out(`${pad('', 26)}${lpad('3 nodes', 10)}${lpad('10 nodes', 10)}${lpad('10/3', 8)}`);
  const row = (label: string, a: number, b: number, fmt = f0) =>
    out(`${pad(label, 26)}${lpad(fmt(a), 10)}${lpad(fmt(b), 10)}${lpad(f2(b / a), 8)}`);
  for (const [rate, x, y] of [
    [`${SUSTAINABLE_RATE}/s`, rSus3, rSus],
    ['5/s', r53, r5],
  ] as const) {
    row(`${rate} p50 ms`, x.p50, y.p50);
    row(`${rate} p95 ms`, x.p95, y.p95);
    row(`${rate} p99 ms`, x.p99, y.p99);
    row(`${rate} COMPLETE %`, x.completePct, y.completePct, f1);
    row(`${rate} CPU ms/query`, x.cpuMsPerQuery, y.cpuMsPerQuery, f1);
    if (x.pgMsPerQuery !== null && y.pgMsPerQuery !== null) row(`${rate} PostgreSQL ms/query`, x.pgMsPerQuery, y.pgMsPerQuery, f1);
  }
  row('floor ms/query', floor3.total, floor10.total, f1);
  row(`CPU/floor (${SUSTAINABLE_RATE}/s)`, rSus3.cpuMsPerQuery / floor3.total, rSus.cpuMsPerQuery / floor10.total, f2);
  row(
    `CPU/(floor+linkage)`,
    rSus3.cpuMsPerQuery / (floor3.total + parts.linkageCpu),
    rSus.cpuMsPerQuery / (floor10.total + parts.linkageCpu),
    f2,
  );
  for (const [label, r] of [
    [`${SUSTAINABLE_RATE}/s`, rSus3],
    ['5/s', r53],
  ] as const)
    if (r.problems.size) out(`  3 nodes, ${label}: members not answering: ${showTally(r.problems)}`);
  out(`  (3-node floor from the same parts: a ${f1(floor3.a)} + b ${f1(floor3.b)} + c ${f1(floor3.c)} + d ${f1(floor3.d)})`);
  out();
  out(
    `node log lines at warn/error during the run: ${logCounts.warn}/${logCounts.error}${logCounts.first.length ? ` (first: ${logCounts.first.join(' | ')})` : ''}`,
  );
  out(`total run time ${f0((performance.now() - benchStarted) / 1000)} s. Reproduce: npm run bench:federation`);
} catch (err) {
  exitCode = 1;
  process.stderr.write(`federation bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await ten?.close().catch(() => undefined);
  await three?.close().catch(() => undefined);
  await server.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
