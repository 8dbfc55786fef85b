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
import { Writable } from 'node:stream';

import { createDevIssuer, devAudience, type Viewer } from '@mcx/auth';
import { createClient, FederatedEpisodesDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { createFreshDatabase, runMigrations } from '@mcx/db';
import { createFanOut, PEER_HISTORY, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { createLogger } from '@mcx/logger';
import { parseConfig, startNode, type RunningNode } from '@mcx/node';
import { signNodeToken, verifyNodeToken, verifyReceipt, verifyRecord } from '@mcx/signing';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { cpuSince, percentile, sleep, startBenchServer, type BenchServer } from './federation-bench-support.js';

const TEN = ['WMP', 'GMP', 'MPS', 'WYP', 'BTP', 'ASP', 'ESSEX', 'DC', 'CHES', 'CUMB'];
const THREE = ['WMP', 'GMP', 'MPS'];
const CALLER = 'WMP';
const EPISODES_PER_NODE = 3;
const OPEN_LOOP_SECONDS = 15;
const CLOSED_LOOP_SECONDS = 4;
const CONCURRENCY = [1, 2, 4, 8, 16];
/** A rate the 10-node federation sustains on a small machine, for the CPU-per-query figure. */
const SUSTAINABLE_RATE = 2;
// Breakers as shipped (5 consecutive failures) but half-opening after 2 s rather than 30 s, so an
// overloaded phase does not leave the next one answering CIRCUIT_OPEN.
const NODE_ENV = {
  MCX_PEER_TIMEOUT_MS: '1000',
  MCX_FEDERATION_DEADLINE_MS: '1500',
  MCX_PEER_BREAKER_HALF_OPEN_MS: '2000',
  LOG_LEVEL: 'warn',
  MCX_ENV: 'test',
};
// Synthetic: no such child exists. Sent as input, never printed.
const CHILD = { forename: 'Rosalind', surname: 'Quennell', dob: '2011-04-09', sex: 'FEMALE' as const, nhsNumber: '9990001413' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

/** Node log lines at warn and above are counted (messages kept, never fields), not printed as they come. */
const logCounts = { warn: 0, error: 0, first: [] as string[] };
const logSink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        const { level, msg } = JSON.parse(line) as { level?: string; msg?: string };
        if (level === 'warn') logCounts.warn++;
        else logCounts.error++;
        if (logCounts.first.length < 3) logCounts.first.push(`${level}: ${msg ?? ''}`);
      } catch {
        logCounts.error++;
      }
    }
    cb();
  },
});
const nodeLogger = createLogger({ level: 'warn', destination: logSink });

interface BenchNode {
  force: string;
  node: RunningNode;
  investigator: McxClient;
  close(): Promise<void>;
}

interface BenchFederation {
  forces: string[];
  fed: TestFederation;
  nodes: Record<string, BenchNode>;
  close(): Promise<void>;
}

async function startFederation(server: BenchServer, forces: string[], dataDir: string): Promise<BenchFederation> {
  const ports = Object.fromEntries(await Promise.all(forces.map(async (f) => [f, await freePort()] as const)));
  const fed = await createFederation(forces, {
    endpoints: Object.fromEntries(forces.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
    capabilities: [PEER_HISTORY.name],
    linkageDatabaseUrl: await createFreshDatabase(server.adminUrl, 'mcx_fedbench_linkage'),
  });
  const nodes: Record<string, BenchNode> = {};
  // Databases and migrations two at a time: the machine has 2 cores.
  const urls: Record<string, string> = {};
  for (let i = 0; i < forces.length; i += 2) {
    await Promise.all(
      forces.slice(i, i + 2).map(async (force) => {
        const url = await createFreshDatabase(server.adminUrl, `mcx_fedbench_${force.toLowerCase()}`);
        await runMigrations(url);
        urls[force] = url;
      }),
    );
  }
  await Promise.all(
    forces.map(async (force) => {
      const config = parseConfig({
        ...NODE_ENV,
        ...fed.nodeEnv(force),
        MCX_FORCE_CODE: force,
        PORT: String(ports[force]),
        DATABASE_URL: urls[force],
        MCX_DATA_DIR: path.join(dataDir, force),
      });
      const issuer = await createDevIssuer();
      const node = await startNode(config, nodeLogger.child({ force }), urls[force]!, { keys: fed.keys[force]!, devIssuer: issuer });
      const mint = (roles: ('publisher' | 'investigator')[], kind: 'client' | 'user') =>
        issuer.mintToken({
          roles,
          force,
          orgKind: 'police',
          subject: `bench-${roles.join('-')}`,
          kind,
          ttlSec: 3600,
          audience: devAudience(force),
        });
      const publisher = createClient({ url: node.url, token: await mint(['publisher'], 'client') });
      const investigator = createClient({
        url: node.url,
        token: await mint(['investigator'], 'user'),
        headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': `${force.slice(0, 4)}-26-1001` },
      });
      nodes[force] = { force, node, investigator, close: () => node.close() };
      // The child, and its episodes here.
      const { publishSubject } = await publisher.request(PublishSubjectDocument, {
        input: { subjectRef: `SUBJ-${force}-1`, reviewAt, identity: CHILD },
      });
      if (publishSubject.errors.length)
        throw new Error(`publishSubject at ${force}: ${publishSubject.errors.map((e) => e.field).join(', ')}`);
      for (let i = 0; i < EPISODES_PER_NODE; i++) {
        const { errors } = await publishEpisode(publisher, episodeInput({ subjectRef: `SUBJ-${force}-1` }));
        if (errors.length) throw new Error(`publishEpisode at ${force}: ${JSON.stringify(errors.map((e) => e.field))}`);
      }
    }),
  );
  return {
    forces,
    fed,
    nodes,
    close: async () => {
      await Promise.all(Object.values(nodes).map((n) => n.close().catch(() => undefined)));
      await fed.close();
    },
  };
}

interface Answer {
  complete: boolean;
  strong: number;
  /** `STATUS/reason` of each member that did not answer cleanly. */
  problems: string[];
}

/** Counts of `STATUS/reason` of members that did not answer, for the runs' notes. */
function tally(into: Map<string, number>, problems: readonly string[]) {
  for (const p of problems) into.set(p, (into.get(p) ?? 0) + 1);
}
const showTally = (t: Map<string, number>) =>
  [...t.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, n]) => `${k} x${n}`)
    .join(', ');

function asker(f: BenchFederation): () => Promise<Answer> {
  const client = f.nodes[CALLER]!.investigator;
  return async () => {
    const { federatedEpisodes: r } = await client.request(FederatedEpisodesDocument, { identity: CHILD });
    const problems = r.federation.members.filter((m) => m.status !== 'ANSWERED').map((m) => `${m.status}/${m.reason ?? '-'}`);
    return { complete: r.federation.completeness === 'COMPLETE', strong: r.strong.length, problems };
  };
}

interface RunResult {
  queries: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  completePct: number;
  failed: number;
  wrongCount: number;
  problems: Map<string, number>;
  cpuMsPerQuery: number;
  pgMsPerQuery: number | null;
  /** The latest any request left after its scheduled time, ms. */
  maxSendLagMs: number;
}

/** Open loop: `rate` arrivals per second for `seconds`, each sent at its scheduled time. */
async function openLoop(
  server: BenchServer,
  ask: () => Promise<Answer>,
  expected: number,
  rate: number,
  seconds: number,
): Promise<RunResult> {
  const n = Math.round(rate * seconds);
  const period = 1000 / rate;
  const latencies: number[] = [];
  let complete = 0;
  let failed = 0;
  let wrongCount = 0;
  const problems = new Map<string, number>();
  const pending: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
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
  const cpu = cpuSince(cpu0);
  const pg1 = server.cpuMs();
  return {
    queries: n,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    completePct: (100 * complete) / n,
    failed,
    wrongCount,
    problems,
    cpuMsPerQuery: cpu / n,
    pgMsPerQuery: pg0 !== null && pg1 !== null ? (pg1 - pg0) / n : null,
    maxSendLagMs,
  };
}

/** Closed loop: `concurrency` investigators each asking again as soon as answered. */
async function closedLoop(ask: () => Promise<Answer>, concurrency: number, seconds: number) {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  const latencies: number[] = [];
  let done = 0;
  let complete = 0;
  let failed = 0;
  const problems = new Map<string, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const a = await ask();
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
    qps: done / wall,
    cpuMsPerQuery: cpuSince(cpu0) / Math.max(1, done),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    completePct: (100 * complete) / Math.max(1, done),
    failed,
    problems,
  };
}

interface FloorParts {
  /** (a) whole peer request, node-process CPU ms; and PostgreSQL CPU ms. */
  peerCpu: number;
  peerPg: number | null;
  peerWall: number;
  recordsPerAnswer: number;
  /** (b) µs. */
  signUs: number;
  verifyUs: number;
  /** (c) µs. */
  recordVerifyUs: number;
  receiptVerifyUs: number;
  /** (d) ms per durable commit. */
  commitCpu: number;
  commitPg: number | null;
  commitWall: number;
  /** Outside the floor: linkage keys for the identity (OPRF round trip), ms, and how many keys. */
  linkageCpu: number;
  linkageKeys: number;
}

async function measureParts(server: BenchServer, f: BenchFederation): Promise<FloorParts> {
  const caller = f.nodes[CALLER]!.node;
  const peerCode = 'GMP';
  const peer = f.nodes[peerCode]!.node;
  const callerHolder = caller.app.trust!.holder;
  const peerHolder = peer.app.trust!.holder;
  const callerKey = f.fed.keys[CALLER]!.peerToken;
  const derived = await caller.app.services.subjects.queryKeys(CHILD);
  if ('errors' in derived) throw new Error('the synthetic identity was refused');
  const variables = {
    keys: derived.keys.map((k) => ({
      kind: k.kind,
      strength: k.strength,
      keyVersion: k.keyVersion,
      key: k.key,
      ...(k.variant ? { variant: k.variant } : {}),
    })),
  };
  const hash = requestHash(PEER_HISTORY.hash, variables);
  const body = JSON.stringify({ id: PEER_HISTORY.hash, variables });
  const claims = {
    act: { sub: 'bench-investigator', iss: 'https://login.example/wmp', org_kind: 'police', role: 'investigator' },
    purpose: 'MISSING_LIVE_SEARCH',
    case_ref: 'WMP-26-1001',
    caller_entry: `${CALLER}:1`,
    req_hash: hash,
  };
  const token = (aud = peerAudience(peerCode)) => signNodeToken({ iss: CALLER, aud, ttlSec: 30, claims }, callerKey);

  // (a) One member's answer, through the caller's own kind of fan-out client.
  const fanOut = createFanOut({
    perPeerTimeoutMs: 5000,
    overallDeadlineMs: 5000,
    maxResponseBytes: 4 << 20,
    breaker: { consecutiveFailures: 1000, halfOpenAfterMs: 1000 },
  });
  const url = new URL(PEER_PATH, peer.url).toString();
  const post = async (jwt: string) => {
    const [r] = await fanOut.call([{ member: peerCode, url, headers: { authorization: `Bearer ${jwt}` }, body }]);
    if (r!.status !== 'answered') throw new Error(`direct peer request: ${r!.status} ${r!.reason ?? ''}`);
    return r!.body as { data: { peerHistory: { records: { bytes: string; signature: string }[] } }; receipt: string };
  };
  for (let i = 0; i < 60; i++) await post(token()); // warm-up
  const sample = await post(token());
  const records = sample.data.peerHistory.records;
  const A = 200;
  let peerCpu = 0;
  let peerPg: number | null = 0;
  let peerWall = 0;
  for (let round = 0; round < 2; round++) {
    const tokens = Array.from({ length: A / 2 }, () => token()); // signed before the clock starts
    const cpu0 = process.cpuUsage();
    const pg0 = server.cpuMs();
    const t0 = performance.now();
    for (const t of tokens) await post(t);
    peerWall += performance.now() - t0;
    peerCpu += cpuSince(cpu0);
    const pg1 = server.cpuMs();
    peerPg = peerPg !== null && pg0 !== null && pg1 !== null ? peerPg + pg1 - pg0 : null;
  }
  await fanOut.close();

  // (b) Node token sign and verify, (c) record and receipt verification: tight loops.
  const micro = (n: number, fn: (i: number) => unknown): number => {
    for (let i = 0; i < Math.min(200, n); i++) fn(i);
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    return (cpuSince(t0) * 1000) / n;
  };
  const signUs = micro(3000, () => token());
  const signed = Array.from({ length: 3000 }, () => token());
  const verifyOpts = { audience: peerAudience(peerCode) };
  const verifyUs = micro(3000, (i) => verifyNodeToken(signed[i % signed.length]!, peerHolder, verifyOpts));
  const recordResolver = callerHolder.keyResolver('record');
  for (const r of records) if (!verifyRecord(r.bytes, r.signature, recordResolver).valid) throw new Error('a sample record did not verify');
  const recordVerifyUs = micro(3000, (i) =>
    verifyRecord(records[i % records.length]!.bytes, records[i % records.length]!.signature, recordResolver),
  );
  const receiptResolver = callerHolder.keyResolver('audit-checkpoint');
  const receiptVerifyUs = micro(3000, () => verifyReceipt(sample.receipt, receiptResolver));

  // (d) Durable audit commits through the caller's AuditService, one at a time (as in a query).
  const audit = caller.app.services.audit;
  const viewer: Viewer = {
    subject: 'bench-investigator',
    issuer: 'bench',
    force: CALLER,
    orgKind: 'police',
    roles: ['investigator'],
    tokenKind: 'user',
  };
  const event = {
    action: 'consultation' as const,
    viewer,
    requestingNode: CALLER,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: 'WMP-26-1001',
    linkageDigest: caller.app.services.subjects.digest(derived.keys),
    operation: 'federationBenchCommit',
    queryIds: [],
    recordIds: [],
    outcome: 'success' as const,
  };
  for (let i = 0; i < 20; i++) await audit.record(event);
  const D = 200;
  const dCpu0 = process.cpuUsage();
  const dPg0 = server.cpuMs();
  const dT0 = performance.now();
  for (let i = 0; i < D; i++) await audit.record(event);
  const commitWall = (performance.now() - dT0) / D;
  const commitCpu = cpuSince(dCpu0) / D;
  const dPg1 = server.cpuMs();
  const commitPg = dPg0 !== null && dPg1 !== null ? (dPg1 - dPg0) / D : null;

  // Outside the floor: the caller's linkage keys for the identity (a round trip to the in-process linkage service).
  for (let i = 0; i < 10; i++) await caller.app.services.subjects.queryKeys(CHILD);
  const L = 100;
  const lCpu0 = process.cpuUsage();
  for (let i = 0; i < L; i++) await caller.app.services.subjects.queryKeys(CHILD);
  const linkageCpu = cpuSince(lCpu0) / L;

  return {
    peerCpu: peerCpu / A,
    peerPg: peerPg === null ? null : peerPg / A,
    peerWall: peerWall / A,
    recordsPerAnswer: records.length,
    signUs,
    verifyUs,
    recordVerifyUs,
    receiptVerifyUs,
    commitCpu,
    commitPg,
    commitWall,
    linkageCpu,
    linkageKeys: derived.keys.length,
  };
}

/** The floor for a federation of `members`, and its breakdown (ms per query). */
function floorFor(p: FloorParts, members: number) {
  const ms = (us: number) => us / 1000;
  const a = members * (p.peerCpu - ms(p.verifyUs) - p.commitCpu);
  const b = members * ms(p.signUs + p.verifyUs);
  const c = members * ms(p.recordsPerAnswer * p.recordVerifyUs + p.receiptVerifyUs);
  const d = (2 + members) * p.commitCpu;
  const pg = p.peerPg !== null && p.commitPg !== null ? members * p.peerPg + 2 * p.commitPg : null;
  return { a, b, c, d, total: a + b + c + d, pg };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** Sequential queries until the federation answers COMPLETE with every episode 3 times running (cold JIT can time a member out). */
async function warmUp(ask: () => Promise<Answer>, expected: number) {
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
async function settle(ask: () => Promise<Answer>) {
  await sleep(Number(NODE_ENV.MCX_PEER_BREAKER_HALF_OPEN_MS) + 500);
  for (let i = 0; i < 10; i++) {
    if ((await ask()).complete) return;
    await sleep(1000);
  }
}

function idleCpuRate(): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return sleep(1500).then(() => cpuSince(c0) / ((performance.now() - t0) / 1000));
}

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
