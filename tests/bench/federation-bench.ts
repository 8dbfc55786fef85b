// What does one federated read cost, and how does it grow with the federation?
//   npm run bench:federation        (= npx tsx tests/bench/federation-bench.ts; about 2-3 minutes)
//
// Setup: one embedded PostgreSQL (or DATABASE_URL's server) with one database per node; a real
// federation from tests/testkit/federation.ts (operator key, signed manifest offering
// mcx.history/1, the linkage service on loopback) and 10 real nodes on loopback, all in this one
// process. The same synthetic child is published at every node with 3 episodes each. The
// investigator at WMP asks federatedEpisodes(identity); WMP asks all 10 members (itself included)
// over POST /peer/v1 and verifies every record and receipt. The investigator asks from a process
// of its own (tests/bench/federation-bench-investigator.ts), as a browser or a force system would:
// its client neither takes turns on the nodes' event loop nor counts in their CPU.
//
// Measured (the floor's parts first: their warm-ups also warm the members up):
//   1. Open-loop arrivals at 2/s (a rate this machine sustains), 5/s, 20/s and 40/s, 15 s each after a
//      warm-up: requests go out at their scheduled times whether or not earlier ones have
//      answered; latency is counted from the scheduled time, so queueing shows. p50/p95/p99, the
//      share of COMPLETE answers, and which members did not answer and why.
//      A query the caller refuses at once (503, FEDERATION_BUSY: its admission gate) is counted as
//      shed, apart from the latencies; after each run, the members whose breaker is not closed.
//   2. CPU per federated query: process.cpuUsage() over each fixed-rate run / queries. Every node
//      and the linkage service run in this process, so this is their total; PostgreSQL's own CPU
//      (read from /proc for the embedded server) is shown beside it, and the investigator's client
//      CPU under the table (runs before this one counted it in: 4 to 6 ms a query at 20/s, 10 to
//      16 at 2/s, where each query also wakes an idle process).
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
//      (e) deriving the child's linkage keys through the linkage service (one OPRF round trip
//          per query: blind and finalize at the caller, evaluate at the service).
//      Floor = per-query sum for N members, the OPRF keys included as issue 20 asks; the floor
//      without them (a to d, as runs before printed it) is shown beside it.
//   4. Saturation: closed loop at concurrency 1, 2, 4, 8, 16 (4 s each): queries/s, and the share of
//      the time the nodes' one event loop was busy (near 100%, that thread bounds the rate, not the cores).
//   5. The central copy (tests/bench/federation-bench-central.ts): one node holding every force's
//      copy of the child in its own database, one query path and one audit commit, asked the
//      same federatedEpisodes over HTTP through the same edge, at 2/s and 5/s: the price of
//      federation is federated p95 / central p95 at 5/s, printed. Beside it, at 5/s, the central
//      read with the node's services called directly (no HTTP, no GraphQL), as earlier runs had it.
//   6. Growth: a fresh 3-node federation, the 2/s and 5/s runs again, side by side (the 3-node
//      floor is computed from the same parts).
//   7. Only with BENCH_PROCESSES=1 (about 2.5 minutes more): the 10-node federation again with each
//      node in a process of its own (tests/bench/federation-bench-processes.ts), as deployed, with
//      the same open and closed loops as 1 and 4; CPU is the sum over every node process and this one.
//      On a 2-core machine eleven processes and PostgreSQL contend for two cores: each query
//      costs about twice the CPU it does with every node on one event loop, so the headline
//      figures are the one-process federation's.
// The caller's admission gate is as shipped (MCX_FEDERATION_MAX_IN_FLIGHT 8, fewer while its event
// loop is busy, down to MCX_FEDERATION_MIN_IN_FLIGHT 2: services/node/src/http/federation-gate.ts).
// Breakers are as shipped (open after 5 consecutive failures) except that they half-open after
// 2 s, not 30 s, and each phase starts after a settle: an overloaded phase would otherwise leave
// the next one answering CIRCUIT_OPEN for half a minute.
// No personal data is printed: the synthetic identity is only ever sent, never logged.
import './production-runtime.js';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { centralAsker, centralOverEdge } from './federation-bench-central.js';
import { floorFor, measureParts } from './federation-bench-floor.js';
import { localInvestigator, remoteInvestigator, type Investigator } from './federation-bench-investigator.js';
import { idleCpuRate, type RunResult } from './federation-bench-load.js';
import {
  CALLER,
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
import { measureDeployed, type DeployedResult } from './federation-bench-processes.js';
import { f0, f1, f2, lpad, out, pad, printClosedLoops, printOpenLoops, saturation } from './federation-bench-report.js';
import { startBenchServer } from './federation-bench-support.js';

// Ten nodes, a linkage service and the embedded server's child processes share this process's signal handlers.
process.setMaxListeners(64);
const benchStarted = performance.now();
const server = await startBenchServer();
const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-fedbench-'));
let ten: BenchFederation | null = null;
let three: BenchFederation | null = null;
let central: BenchFederation | null = null;
/** The investigator asking, in a process of its own; closed after each federation. */
let investigator: Investigator | null = null;
let exitCode = 0;

try {
  out(
    `federation bench: PostgreSQL ${server.kind} (${server.settings}); Node ${process.version}; all nodes in one process; libraries loaded as NODE_ENV=production (as deploy/Dockerfile), see production-runtime.ts`,
  );
  let t = performance.now();
  ten = await startFederation(server, TEN, dataDir);
  out(
    `started ${TEN.length} nodes (a database each) + linkage service, child published with ${EPISODES_PER_NODE} episodes at each, in ${f1((performance.now() - t) / 1000)} s`,
  );
  investigator = await remoteInvestigator(ten.nodes[CALLER]!);
  const inv10 = investigator;
  const expected10 = TEN.length * EPISODES_PER_NODE;
  await inv10.warmUp(expected10);
  // The parts first: their own warm-ups also warm the members' code before the timed runs.
  out('10 nodes: floor microbenchmarks ...');
  const parts = await measureParts(server, ten);
  await inv10.closedLoop(1, 4); // warm-up, discarded
  // The microbenchmarks leave thousands of audit entries at some nodes. Their first periodic
  // checkpoint would verify that backlog inside whichever timed run it fell in: checkpointed now.
  await Promise.all(Object.values(ten.nodes).map((n) => n.node.app.services.audit.checkpoint()));
  const idle10 = await idleCpuRate();

  const runs10: [string, RunResult][] = [];
  /** Members whose breaker at the caller was not closed right after each run. */
  const notClosed = new Map<string, string[]>();
  const callerFederation = ten.nodes[CALLER]!.node.app.services.federation!;
  for (const rate of [SUSTAINABLE_RATE, 5, 20, 40]) {
    out(`10 nodes: open loop ${rate}/s for ${OPEN_LOOP_SECONDS} s ...`);
    await inv10.settle();
    runs10.push([`${rate}/s`, await inv10.openLoop(server, expected10, rate, OPEN_LOOP_SECONDS)]);
    notClosed.set(
      `${rate}/s`,
      callerFederation
        .memberHealth()
        .filter((m) => m.breaker !== 'closed')
        .map((m) => m.code),
    );
  }
  const [rSus, r5, r20, r40] = runs10.map(([, r]) => r) as [RunResult, RunResult, RunResult, RunResult];
  out(`10 nodes: closed loop at ${CONCURRENCY.join(', ')} in flight, ${CLOSED_LOOP_SECONDS} s each ...`);
  const closed = [];
  for (const c of CONCURRENCY) {
    await inv10.settle();
    closed.push(await inv10.closedLoop(c, CLOSED_LOOP_SECONDS));
  }
  await investigator.close();
  investigator = null;
  await ten.close();
  ten = null;

  out(`central copy: one node holding all ${TEN.length} forces' records, open loop ${SUSTAINABLE_RATE}/s and 5/s ...`);
  central = await startFederation(server, [CALLER], dataDir, TEN.length);
  investigator = await remoteInvestigator(centralOverEdge(central));
  const invC = investigator;
  await invC.warmUp(expected10);
  await invC.closedLoop(1, 4); // warm-up, discarded
  const rSusC = await invC.openLoop(server, expected10, SUSTAINABLE_RATE, OPEN_LOOP_SECONDS);
  const r5C = await invC.openLoop(server, expected10, 5, OPEN_LOOP_SECONDS);
  await investigator.close();
  investigator = null;
  // As runs before this one measured it: the services called directly, without the investigator's edge.
  const invD = localInvestigator(centralAsker(central));
  await invD.warmUp(expected10);
  const r5D = await invD.openLoop(server, expected10, 5, OPEN_LOOP_SECONDS);
  await central.close();
  central = null;

  out(`3 nodes: fresh federation, open loop ${SUSTAINABLE_RATE}/s and 5/s ...`);
  t = performance.now();
  three = await startFederation(server, THREE, dataDir);
  investigator = await remoteInvestigator(three.nodes[CALLER]!);
  const inv3 = investigator;
  const expected3 = THREE.length * EPISODES_PER_NODE;
  await inv3.warmUp(expected3);
  await inv3.closedLoop(1, 4); // warm-up, discarded
  const rSus3 = await inv3.openLoop(server, expected3, SUSTAINABLE_RATE, OPEN_LOOP_SECONDS);
  await inv3.settle();
  const r53 = await inv3.openLoop(server, expected3, 5, OPEN_LOOP_SECONDS);
  await investigator.close();
  investigator = null;
  await three.close();
  three = null;

  // Opt-in (BENCH_PROCESSES=1): the same 10 nodes, a process each.
  let deployed: DeployedResult | null = null;
  if (process.env.BENCH_PROCESSES === '1') {
    out(`10 nodes, a process each: starting ...`);
    deployed = await measureDeployed(server, TEN, dataDir, [SUSTAINABLE_RATE, 5, 20, 40]);
  }

  const floor10 = floorFor(parts, TEN.length);
  const floor3 = floorFor(parts, THREE.length);
  const { best, bestComplete } = saturation(closed);
  const pgs = (x: number | null) => (x === null ? 'n/a' : f1(x));

  out();
  out('=== Latency, open loop (ms from the scheduled send time), 10 nodes ===');
  printOpenLoops(runs10, notClosed, expected10);
  out();
  out(`=== Central copy: one node, one database with all ${TEN.length} forces' records, one query path, one audit commit ===`);
  out(`${pad('rate', 7)}${lpad('p50', 8)}${lpad('p95', 8)}${lpad('p99', 8)}${lpad('cpu ms/q', 10)}${lpad('pg ms/q', 9)}`);
  for (const [label, r] of [
    [`${SUSTAINABLE_RATE}/s`, rSusC],
    ['5/s', r5C],
    ['5/s *', r5D],
  ] as const)
    out(
      `${pad(label, 7)}${lpad(f0(r.p50), 8)}${lpad(f0(r.p95), 8)}${lpad(f0(r.p99), 8)}${lpad(f1(r.cpuMsPerQuery), 10)}${lpad(pgs(r.pgMsPerQuery), 9)}`,
    );
  out('  (asked as the federated runs ask: federatedEpisodes over HTTP, the same edge, answered from its own database;');
  out('   * its services called directly, no HTTP or GraphQL, as runs before this one measured it: see federation-bench-central.ts)');
  out(
    `price of federation at 5/s: p95 federated/central = ${f0(r5.p95)}/${f0(r5C.p95)} = ${f2(r5.p95 / r5C.p95)}; CPU/query ${f2(r5.cpuMsPerQuery / r5C.cpuMsPerQuery)}x (${SUSTAINABLE_RATE}/s: p95 ${f2(rSus.p95 / rSusC.p95)}x, CPU ${f2(rSus.cpuMsPerQuery / rSusC.cpuMsPerQuery)}x)`,
  );
  out(
    `  against the services called directly (*): p95 ${f0(r5.p95)}/${f0(r5D.p95)} = ${f2(r5.p95 / r5D.p95)}; CPU/query ${f2(r5.cpuMsPerQuery / r5D.cpuMsPerQuery)}x`,
  );

  out();
  out('=== Saturation, closed loop, 10 nodes ===');
  printClosedLoops(closed);
  out();
  out(
    `=== CPU per federated query vs its floor (this process; 10 members; ${SUSTAINABLE_RATE}/s run, ${f1(rSus.completePct)}% COMPLETE) ===`,
  );
  out(
    `measured:  ${lpad(f1(rSus.cpuMsPerQuery), 6)} ms/query   (5/s run: ${f1(r5.cpuMsPerQuery)} at ${f1(r5.completePct)}% COMPLETE; idle background ${f1(idle10)} ms/s = ${f1(idle10 / SUSTAINABLE_RATE)} ms/query at ${SUSTAINABLE_RATE}/s)`,
  );
  out(
    `floor:     ${lpad(f1(floor10.total), 6)} ms/query   measured/floor = ${f2(rSus.cpuMsPerQuery / floor10.total)}   (without the OPRF keys (e): ${f1(floor10.withoutKeys)} ms, ratio ${f2(rSus.cpuMsPerQuery / floor10.withoutKeys)})`,
  );
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
    `  (e) the identity's ${parts.linkageKeys} linkage keys    ${lpad(f1(floor10.e), 6)}  [OPRF round trip to the in-process linkage service]`,
  );
  const share = (x: number) => `${f0((100 * x) / rSus.cpuMsPerQuery)}%`;
  out(
    `  shares of the measured CPU/query: linkage ${share(parts.linkageCpu)}, members' answers whole (a + verify + disclosure commits) ${share(TEN.length * parts.peerCpu)}, ` +
      `caller's commits ${share(2 * parts.commitCpu)}, caller's Ed25519 (sign + record/receipt verify) ${share(floor10.c + (TEN.length * parts.signUs) / 1000)}, unexplained (measured - floor) ${share(rSus.cpuMsPerQuery - floor10.total)}`,
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
  row(`CPU/floor without (e)`, rSus3.cpuMsPerQuery / floor3.withoutKeys, rSus.cpuMsPerQuery / floor10.withoutKeys, f2);
  for (const [label, r] of [
    [`${SUSTAINABLE_RATE}/s`, rSus3],
    ['5/s', r53],
  ] as const)
    if (r.problems.size) out(`  3 nodes, ${label}: members not answering: ${showTally(r.problems)}`);
  out(
    `  (3-node floor from the same parts: a ${f1(floor3.a)} + b ${f1(floor3.b)} + c ${f1(floor3.c)} + d ${f1(floor3.d)} + e ${f1(floor3.e)})`,
  );
  if (deployed) {
    out();
    out(`=== 10 nodes, a process each (BENCH_PROCESSES=1): CPU is every node process's and this one's ===`);
    out(`idle background: ${f1(deployed.idle)} ms/s (10 node processes and this one)`);
    printOpenLoops(deployed.runs, deployed.notClosed, expected10);
    printClosedLoops(deployed.closed);
    const d5 = deployed.runs.find(([label]) => label === '5/s')?.[1];
    if (d5) out(`federated (a process each)/central p95 at 5/s: ${f0(d5.p95)}/${f0(r5C.p95)} = ${f2(d5.p95 / r5C.p95)}`);
  }

  out();
  out(
    `node log lines at warn/error during the run: ${logCounts.warn}/${logCounts.error}${logCounts.first.length ? ` (first: ${logCounts.first.join(' | ')})` : ''}${logCounts.firstErrors.length ? ` (first errors: ${logCounts.firstErrors.join(' | ')})` : ''}`,
  );
  out();
  out('=== The check (targets on a quiet machine) ===');
  out(
    `CPU/query at ${SUSTAINABLE_RATE}/s: ${f1(rSus.cpuMsPerQuery)} ms (target <= 50), ${f2(rSus.cpuMsPerQuery / floor10.total)}x its floor, the OPRF keys included (target <= 1.5; ${f2(rSus.cpuMsPerQuery / floor10.withoutKeys)}x without them)`,
  );
  out(
    `20/s: p95 ${f0(r20.p95)} ms (target <= 150), ${f1(r20.completePct)}% COMPLETE of ${r20.queries - r20.shed} taken on, ${r20.shed} shed (target >= 99%)`,
  );
  out(`saturation: ${f1(best.qps)} queries/s, ${f1(bestComplete.qps)} with every answer COMPLETE (target >= 30)`);
  out(`federated/central p95 at 5/s: ${f2(r5.p95 / r5C.p95)} (target <= 2)`);
  out(
    `40/s: breakers not closed at the caller right after: ${notClosed.get('40/s')?.length ?? 0}; CIRCUIT_OPEN rows: ${r40.problems.get('CIRCUIT_OPEN/CIRCUIT_OPEN') ?? 0}; shed ${r40.shed} of ${r40.queries} (target: no breaker opens against a healthy member)`,
  );
  out(`total run time ${f0((performance.now() - benchStarted) / 1000)} s. Reproduce: npm run bench:federation`);
} catch (err) {
  exitCode = 1;
  process.stderr.write(`federation bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await investigator?.close().catch(() => undefined);
  await ten?.close().catch(() => undefined);
  await three?.close().catch(() => undefined);
  await central?.close().catch(() => undefined);
  await server.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
