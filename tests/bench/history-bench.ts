// childHistory at national scale: the scenario's four members (three forces and a local
// authority), ~216,000 episodes spread over them (a national year of missing episodes), and
// one child known to all four. Open-loop childHistory at 2/s, 5/s and 20/s: p50, p95, p99
// from the scheduled send time, and the share of COMPLETE answers.
//   npm run bench:history          (BENCH_EPISODES=216000 by default)
//   BENCH_LOCATOR=off npm run bench:history
//     every member is asked every question (the record locator off). By default the members run
//     the locator as a national deployment would (MCX_LOCATOR=on, its default timings): the
//     history is asked of the members whose filters may hold the child, and the places near where
//     she was found only of the members whose filters hold a cell near them.
//   BENCH_RATES=2,5 BENCH_CPU_PROFILE=history.cpuprofile npm run bench:history
//     profiles the open loops only (V8's sampling profiler, as node --cpu-prof, but without the
//     load): caller and members share this process, so one profile holds both ends; read it
//     with npx tsx tests/bench/cpuprofile-top.ts history.cpuprofile 30
// Everything (four nodes, the linkage service, the load generator) runs in this one process on
// one embedded PostgreSQL, so the figures are for the whole federation on this machine's cores.
import './production-runtime.js';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import postgres from 'postgres';

import { createDevIssuer, devAudience } from '@mcx/auth';
import { ChildHistoryDocument, createClient, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { createFreshDatabase, runMigrations } from '@mcx/db';
import { PEER_OPERATIONS } from '@mcx/federation';
import { createLogger } from '@mcx/logger';
import { parseConfig, startNode, type RunningNode } from '@mcx/node';

import { episodeSpec } from '../../services/node/src/modules/episode/episode-spec.js';
import { locationSpec } from '../../services/node/src/modules/location-of-concern/location-spec.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort } from '../testkit/federation.js';
import { associateInput, locationInput, publishAssociate, publishLocation } from '../testkit/records.js';
import { idleCpuRate } from './federation-bench-load.js';
import { percentile, startBenchServer } from './federation-bench-support.js';
import { historyCalls } from './locator-bench-history.js';

const MEMBERS = ['LANCS', 'GMP', 'MERS', 'LALANC'];
const KINDS: Record<string, 'police' | 'local_authority'> = { LANCS: 'police', GMP: 'police', MERS: 'police', LALANC: 'local_authority' };
const TOTAL = Number(process.env.BENCH_EPISODES ?? 216_000);
const PER_NODE = Math.ceil(TOTAL / MEMBERS.length);
/** A national year: about 80,000 children for 216,000 episodes. */
const CHILDREN_PER_NODE = Math.ceil(PER_NODE / 2.7);
const LOCATIONS_PER_NODE = 500;
const RATES = (process.env.BENCH_RATES ?? '2,5,20').split(',').map(Number);
const PROFILE = process.env.BENCH_CPU_PROFILE;
const SECONDS = 15;
const LOCATOR = process.env.BENCH_LOCATOR ?? 'on';
if (LOCATOR !== 'on' && LOCATOR !== 'off') throw new Error('BENCH_LOCATOR must be on or off');
// Read by each node as it builds its services (services/node/src/locator-config.ts).
process.env.MCX_LOCATOR = LOCATOR;
const CHILD = { forename: 'Jade', surname: 'Thomas', dob: '2008-02-29', sex: 'FEMALE' as const };
const DAY = 86_400_000;
const out = (s = '') => process.stdout.write(`${s}\n`);

const silent = new Writable({ write: (_c, _e, cb) => cb() });
const logger = createLogger({ level: 'warn', destination: silent });
process.setMaxListeners(64);

/** A deterministic pseudo-random stream, so runs are comparable. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const started = performance.now();
const server = await startBenchServer();
const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-historybench-'));
const ports = Object.fromEntries(await Promise.all(MEMBERS.map(async (m) => [m, await freePort()] as const)));
const fed = await createFederation(MEMBERS, {
  endpoints: Object.fromEntries(MEMBERS.map((m) => [m, `http://127.0.0.1:${ports[m]}`])),
  capabilities: PEER_OPERATIONS.map((op) => op.name),
  kinds: KINDS,
  linkageDatabaseUrl: await createFreshDatabase(server.adminUrl, 'mcx_histbench_linkage'),
});
const nodes: Record<string, { node: RunningNode; publisher: McxClient; investigator: McxClient }> = {};
const databaseUrls: string[] = [];
for (const m of MEMBERS) {
  const url = await createFreshDatabase(server.adminUrl, `mcx_histbench_${m.toLowerCase()}`);
  databaseUrls.push(url);
  await runMigrations(url);
  const config = parseConfig({
    MCX_ENV: 'test',
    LOG_LEVEL: 'warn',
    MCX_PEER_BREAKER_HALF_OPEN_MS: '2000',
    ...fed.nodeEnv(m),
    MCX_FORCE_CODE: m,
    PORT: String(ports[m]),
    DATABASE_URL: url,
    MCX_DATA_DIR: path.join(dataDir, m),
  });
  const issuer = await createDevIssuer();
  const node = await startNode(config, logger.child({ force: m }), url, { keys: fed.keys[m]!, devIssuer: issuer });
  const mint = (role: 'publisher' | 'investigator', kind: 'client' | 'user') =>
    issuer.mintToken({ role, force: m, orgKind: KINDS[m]!, subject: `bench-${role}`, kind, ttlSec: 7200, audience: devAudience(m) });
  nodes[m] = {
    node,
    publisher: createClient({ url: node.url, token: await mint('publisher', 'client') }),
    investigator: createClient({
      url: node.url,
      token: await mint('investigator', 'user'),
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': `${m.slice(0, 4)}-26-1001` },
    }),
  };
}
out(
  `history bench: ${MEMBERS.length} members, record locator ${LOCATOR}, PostgreSQL ${server.kind} (${server.settings}), Node ${process.version}, all in one process`,
);

// The national year: background episodes of other children, through each node's own write path
// (batches of 1,000, signed, as a force system's publishEpisodes would store them).
const loadStarted = performance.now();
const random = rng(2026);
const now = Date.now();
for (const m of MEMBERS) {
  const records = nodes[m]!.node.app.services.records;
  for (let done = 0; done < PER_NODE; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, PER_NODE - done) }, () => {
      const at = new Date(now - 2 * DAY - random() * 363 * DAY);
      const lat = 50.5 + random() * 4.5;
      const lon = -4 + random() * 5.5;
      return episodeInput(
        { subjectRef: `BG-${m}-${Math.floor(random() * CHILDREN_PER_NODE)}`, foundPlace: { kind: 'OTHER', location: { lat, lon } } },
        at,
      );
    });
    const { errors } = await records.publishBatch(episodeSpec, batch);
    if (errors.length) throw new Error(`background load refused at ${m}: ${JSON.stringify(errors.slice(0, 2))}`);
  }
  const locations = Array.from({ length: LOCATIONS_PER_NODE }, () =>
    locationInput({
      location: { lat: 50.5 + random() * 4.5, lon: -4 + random() * 5.5 },
      grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] },
    }),
  );
  const { errors } = await records.publishBatch(locationSpec, locations);
  if (errors.length) throw new Error(`location load refused at ${m}`);
}
const loadSeconds = (performance.now() - loadStarted) / 1000;
// A year of records has long been vacuumed and analysed in a live node's database: do now what
// autovacuum would otherwise be doing during the first open loop.
for (const url of databaseUrls) {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin`vacuum analyze`;
  await admin.end();
}
out(
  `loaded ${PER_NODE * MEMBERS.length} episodes and ${LOCATIONS_PER_NODE * MEMBERS.length} locations of concern in ${loadSeconds.toFixed(0)} s (${((PER_NODE * MEMBERS.length) / loadSeconds).toFixed(0)} episodes/s)`,
);

// The child: known to every member, with episodes, an adult of concern and a place of concern.
const reviewAt = new Date(now + 400 * DAY).toISOString().slice(0, 10);
const place = { uprn: '100010000001', postcode: 'FY1 1AA', lat: 53.8175, lon: -3.051 };
const { associate } = await publishAssociate(
  nodes.LANCS!.publisher,
  associateInput({ identity: { forename: 'Darren', surname: 'Cole', phone: '+447700900123' } }),
);
await publishLocation(
  nodes.LANCS!.publisher,
  locationInput({ location: place, grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] } }),
);
for (const [i, m] of MEMBERS.entries()) {
  const { publishSubject } = await nodes[m]!.publisher.request(PublishSubjectDocument, {
    input: { subjectRef: `SUBJ-${m}-JADE`, reviewAt, identity: CHILD },
  });
  if (publishSubject.errors.length) throw new Error('subject refused');
  for (let e = 0; e < 3; e++) {
    const at = new Date(now - (10 + 30 * e + i * 3) * DAY);
    const links =
      m === 'LANCS' || m === 'GMP'
        ? [{ owner: 'LANCS', associateId: associate!.id, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const }]
        : [];
    const { errors } = await publishEpisode(
      nodes[m]!.publisher,
      episodeInput({ subjectRef: `SUBJ-${m}-JADE`, foundPlace: { kind: 'OTHER', location: place }, associates: links }, at),
    );
    if (errors.length) throw new Error(`child's episode refused at ${m}: ${JSON.stringify(errors)}`);
  }
}
const expectedIncidents = MEMBERS.length * 3;
// The owner keeps its associates' link counts in the background: told that something changed, it
// counts now, so every history below reads counts of the child's seeded links.
await nodes.LANCS!.node.app.services.linkCounts.changed();
// With the locator on, the members' filters take in her subjects within a rebuild and a poll.
if (LOCATOR === 'on') await sleep(5000);

interface Answer {
  complete: boolean;
  incidents: number;
  /** Refused at once by the caller's admission gate (503, FEDERATION_BUSY): shed, not failed. */
  shed?: boolean;
}
const ask = async (): Promise<Answer> => {
  const sent = await nodes.LANCS!.investigator.raw(ChildHistoryDocument, { identity: CHILD });
  if (sent.status === 503) return { complete: false, incidents: 0, shed: true };
  if (sent.errors.length || !sent.data) throw new Error(`childHistory: ${sent.status} ${sent.errors[0]?.message ?? ''}`);
  const h = sent.data.childHistory;
  return { complete: h.federation.completeness === 'COMPLETE', incidents: h.incidents.length };
};

// Warm up until three COMPLETE answers in a row, each with all her incidents.
let warm = 0;
for (let tries = 0; warm < 3 && tries < 30; tries++) {
  const a = await ask().catch(() => ({ complete: false, incidents: 0 }));
  warm = a.complete && a.incidents === expectedIncidents ? warm + 1 : 0;
}
if (warm < 3) throw new Error(`no three COMPLETE histories with ${expectedIncidents} incidents in a row in 30 tries`);
const calls = await historyCalls(nodes.LANCS!, CHILD);
out(
  `one childHistory: ${calls.calls} peer calls in ${calls.reads} federated reads (${MEMBERS.length} members), ${calls.complete ? 'COMPLETE' : 'PARTIAL'}, ${calls.locations} place(s) of concern near`,
);

// Then 32 more, four at a time, so that the JIT has compiled the hot paths and the connections a
// query at a time uses have prepared their statements: the first open loop (2/s) is not charged
// for that. (A connection first used at 20/s still prepares its statements there.)
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 8; i++) await ask().catch(() => undefined);
  }),
);

async function openLoop(rate: number) {
  await sleep(2500); // let any breaker opened by the previous run half-open again
  // At least 60 queries, so that the p95 of the slowest rate is not its second-worst answer.
  const n = Math.max(60, rate * SECONDS);
  const latencies: number[] = [];
  let complete = 0;
  let failed = 0;
  let shed = 0;
  let missing = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 5;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 0.5) await sleep(wait);
    pending.push(
      ask().then(
        (a) => {
          if (a.shed) shed++;
          else latencies.push(performance.now() - at);
          if (a.complete) complete++;
          // COMPLETE yet short of her incidents: a holder left out (by a filter that missed her).
          if (a.complete && a.incidents !== expectedIncidents) missing++;
        },
        () => {
          latencies.push(performance.now() - at);
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  return {
    rate,
    n,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    // COMPLETE is of the queries the caller took on; a shed query has no latency.
    complete: (100 * complete) / Math.max(1, n - shed),
    failed,
    shed,
    missing,
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
  };
}

// What the four idle nodes and the linkage service cost with no query running (the alert
// queue's polling, timers): part of every open loop's CPU per query, the more so at 2/s.
await sleep(3000); // what the warm-up left (link counts, alert relays, group commits) finishes first
const idleMsPerSecond = await idleCpuRate();
const profiler = PROFILE ? new Session() : null;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const results = [];
for (const rate of RATES) {
  out(`open loop ${rate}/s for ${Math.max(60, rate * SECONDS) / rate} s ...`);
  results.push(await openLoop(rate));
}
if (profiler) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(PROFILE!, JSON.stringify(profile));
  profiler.disconnect();
  out(`CPU profile of the open loops: ${PROFILE}`);
}
const base = results[0]!;
out('');
out(`=== childHistory, ${MEMBERS.length} members, ${PER_NODE * MEMBERS.length} episodes (ms from the scheduled send time) ===`);
out(
  `idle background: ${idleMsPerSecond.toFixed(1)} ms of CPU a second (in cpu ms/q, ${(idleMsPerSecond / RATES[0]!).toFixed(1)} ms at ${RATES[0]}/s)`,
);
out('rate   queries     p50     p95     p99  COMPLETE  failed  shed  cpu ms/q  less idle  p95 / p95 at 2/s');
for (const r of results) {
  out(
    `${`${r.rate}/s`.padEnd(6)} ${String(r.n).padStart(7)} ${r.p50.toFixed(0).padStart(7)} ${r.p95.toFixed(0).padStart(7)} ${r.p99.toFixed(0).padStart(7)} ${`${r.complete.toFixed(1)}%`.padStart(9)} ${String(r.failed).padStart(7)} ${String(r.shed).padStart(5)} ${r.cpuMs.toFixed(1).padStart(9)}  ${(r.cpuMs - idleMsPerSecond / r.rate).toFixed(1).padStart(9)}  ${(r.p95 / base.p95).toFixed(2).padStart(8)}`,
  );
}
const short = results.filter((r) => r.missing > 0);
out(
  short.length
    ? `COMPLETE answers short of her ${expectedIncidents} incidents: ${short.map((r) => `${r.missing} at ${r.rate}/s`).join(', ')}`
    : `every COMPLETE answer held all ${expectedIncidents} of her incidents`,
);
out(`total run time ${((performance.now() - started) / 1000).toFixed(0)} s. Reproduce: npm run bench:history`);
for (const m of MEMBERS) await nodes[m]!.node.close();
await fed.close();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
