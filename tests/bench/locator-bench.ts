// npm run bench:locator: the record locator against full fan-out, on federations of real member
// nodes in this process (10, 50 and 100), each node over its own database on one PostgreSQL
// server (DATABASE_URL's, else an embedded one). M001 searches with MCX_LOCATOR=on; M002 searches
// with every member asked (MCX_LOCATOR=serve); every node serves its filter. A handful of members
// hold a seeded population of synthetic children (no real person).
//   - recall (100 members): 1,000 searches by M001 against the seeded truth, 0 missed holders
//     expected, including a child published 5 s before and one retracted 5 s before, and a sample
//     checked against M002's full fan-out;
//   - members asked per search (p50, target <= 3% of the federation);
//   - 2% of members stopped at random: the share of COMPLETE answers with and without the locator,
//     before and after the stopped members' filters go stale;
//   - p95 latency and CPU per search (this process: every node, both ends; PostgreSQL's own CPU is
//     not counted) at 10, 50 and 100 members, with and without the locator, with their ratios;
//   - the peer calls of one childHistory (a child known to 3 members, associates at 4, a place of
//     concern near where she was found) at each size, with and without the locator
//     (locator-bench-history.ts).
import './production-runtime.js';

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import postgres from 'postgres';

import { createDevIssuer, devAudience } from '@mcx/auth';
import { createClient, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { runMigrations, startEmbeddedPostgres } from '@mcx/db';
import { PEER_OPERATIONS } from '@mcx/federation';
import { parseConfig, startNode, type RunningNode } from '@mcx/node';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { LOCATOR_SEARCH, type Answer } from '../testkit/locator.js';
import { retractRecord } from '../testkit/records.js';
import { logCounts, nodeLogger } from './federation-bench-nodes.js';
import { cpuSince, percentile, sleep } from './federation-bench-support.js';
import { historyCalls, seedHistoryChild } from './locator-bench-history.js';
import { identity, listenablePort } from './locator-bench-support.js';

/** LOCATOR_BENCH_SIZES=10 for a quick look; recall and stopped members run on the largest. */
const SIZES = (process.env.LOCATOR_BENCH_SIZES ?? '10,50,100').split(',').map(Number);
const HOLDERS = 5;
const SUBJECTS = 150;
const RECALL_SEARCHES = Number(process.env.LOCATOR_BENCH_RECALL ?? 1000);
const FULL_FANOUT_SAMPLE = Math.min(20, RECALL_SEARCHES);
const TIMED_SEARCHES = 30;
const LOCATOR = { MCX_LOCATOR_POLL_MS: '2500', MCX_LOCATOR_MAX_AGE_MS: '10000', MCX_LOCATOR_REBUILD_MS: '1000' };
const NODE_ENV = {
  MCX_ENV: 'test',
  LOG_LEVEL: 'warn',
  MCX_DB_POOL_MAX: '3',
  MCX_PEER_TIMEOUT_MS: '2000',
  MCX_FEDERATION_DEADLINE_MS: '4000',
  MCX_PEER_BREAKER_HALF_OPEN_MS: '2000',
  // A hundred nodes share one event loop: its delay is the process's, not one node's, so no node sheds load on it.
  MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
};
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

interface BenchNode {
  code: string;
  node: RunningNode;
  publisher: McxClient;
  investigator: McxClient;
}

interface Federation {
  codes: string[];
  startCaller(): Promise<void>;
  fed: TestFederation;
  nodes: Map<string, BenchNode>;
  close(): Promise<void>;
}

async function startFederation(adminUrl: string, n: number, dataDir: string): Promise<Federation> {
  const codes = Array.from({ length: n }, (_, i) => `M${String(i + 1).padStart(3, '0')}`);
  // Below the ephemeral range: a port picked there can be taken by an outgoing connection before the node listens.
  const ports = Object.fromEntries(await Promise.all(codes.map(async (c) => [c, await listenablePort()] as const)));
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const tag = `lb${n}`;
  // One migrated template, copied for each node: migrating 100 databases one by one takes minutes.
  await admin.unsafe(`drop database if exists mcx_${tag}_template`);
  await admin.unsafe(`create database mcx_${tag}_template`);
  const templateUrl = Object.assign(new URL(adminUrl), { pathname: `/mcx_${tag}_template` }).toString();
  await runMigrations(templateUrl);
  // The synthetic members are forces in every node's reference data, as a real federation's are,
  // so an episode may name an associate another member holds.
  const template = postgres(templateUrl, { max: 1, onnotice: () => {} });
  for (const c of codes)
    await template`insert into ref_organisations (code, name, kind, police_area) values (${c}, ${`Synthetic ${c}`}, 'police', ${c})`;
  await template.end();
  const urls: Record<string, string> = {};
  for (const c of [...codes, 'linkage']) {
    const db = `mcx_${tag}_${c.toLowerCase()}`;
    await admin.unsafe(`drop database if exists ${db}`);
    await admin.unsafe(c === 'linkage' ? `create database ${db}` : `create database ${db} template mcx_${tag}_template`);
    urls[c] = Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
  }
  await admin.end();
  const fed = await createFederation(codes, {
    endpoints: Object.fromEntries(codes.map((c) => [c, `http://127.0.0.1:${ports[c]}`])),
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    linkageDatabaseUrl: urls.linkage!,
    // The searching node turns about 8 identities' keys a search into linkage keys: above the default budget.
    linkageEnv: { MCX_LINKAGE_RATE_PER_SECOND: '100000' },
  });
  const nodes = new Map<string, BenchNode>();
  const start = async (code: string) => {
    const config = parseConfig({
      ...NODE_ENV,
      ...fed.nodeEnv(code),
      MCX_FORCE_CODE: code,
      PORT: String(ports[code]),
      DATABASE_URL: urls[code],
      MCX_DATA_DIR: path.join(dataDir, `${tag}-${code}`),
    });
    const issuer = await createDevIssuer();
    const node = await startNode(config, nodeLogger.child({ force: code }), urls[code]!, { keys: fed.keys[code]!, devIssuer: issuer });
    const mint = async (roles: ('publisher' | 'investigator')[], kind: 'client' | 'user') =>
      issuer.mintToken({
        roles,
        force: code,
        orgKind: 'police',
        subject: `bench-${roles[0]}`,
        kind,
        ttlSec: 3600,
        audience: devAudience(code),
      });
    nodes.set(code, {
      code,
      node,
      publisher: createClient({ url: node.url, token: await mint(['publisher'], 'client') }),
      investigator: createClient({
        url: node.url,
        token: await mint(['investigator'], 'user'),
        headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'MCX-26-1001' },
      }),
    });
  };
  // The locator's settings are read from the environment as each node builds its services.
  const withLocator = async (mode: string, run: () => Promise<void>) => {
    const saved = { ...process.env };
    Object.assign(process.env, LOCATOR, { MCX_LOCATOR: mode });
    try {
      await run();
    } finally {
      process.env = saved;
    }
  };
  await withLocator('serve', async () => {
    for (let i = 1; i < n; i += 10) await Promise.all(codes.slice(i, i + 10).map(start));
  });
  return {
    codes,
    fed,
    nodes,
    // The searching node with the locator on, started once the population is seeded (its polling then starts).
    startCaller: () => withLocator('on', () => start(codes[0]!)),
    close: async () => {
      for (let i = 0; i < codes.length; i += 20)
        await Promise.all(
          codes.slice(i, i + 20).map((c) =>
            nodes
              .get(c)
              ?.node.close()
              .catch(() => undefined),
          ),
        );
      await fed.close();
    },
  };
}

/** Publishes a child (subject and one episode) at `code`; the episode's id. */
async function publish(f: Federation, code: string, i: number): Promise<string> {
  const { publisher } = f.nodes.get(code)!;
  const subjectRef = `SUBJ-${i}`;
  // A hundred nodes and the linkage service share one event loop: a linkage call may time out; tried again.
  const once = () => publisher.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity: identity(i) } });
  const { publishSubject } = await once().catch(async () => (await sleep(1000), once()));
  if (publishSubject.errors.length)
    throw new Error(`publishSubject ${i} at ${code}: ${publishSubject.errors.map((e) => e.field).join(',')}`);
  const { episode, errors } = await publishEpisode(publisher, episodeInput({ subjectRef }));
  if (errors.length) throw new Error(`publishEpisode ${i} at ${code}`);
  return episode!.id;
}

async function search(f: Federation, from: string, i: number): Promise<{ answer: Answer; ms: number }> {
  const t = performance.now();
  const once = () => f.nodes.get(from)!.investigator.request(LOCATOR_SEARCH as never, { identity: identity(i) } as never);
  // A linkage call timed out on the shared event loop: tried once more (and counted in the latency).
  const r = (await once().catch(async () => (await sleep(500), once()))) as { federatedEpisodes: Answer };
  return { answer: r.federatedEpisodes, ms: performance.now() - t };
}

const asked = (a: Answer) => a.federation.members.filter((m) => m.status !== 'NOT_HOLDING').length;
const owners = (a: Answer) => [...new Set(a.strong.map((e) => e.episode.owner))].sort().join(',');
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Seeds the population on the holders: child i at holder i % HOLDERS, every fifth also at the next holder. */
async function seed(f: Federation): Promise<Map<number, Set<string>>> {
  const holders = f.codes.slice(2, 2 + HOLDERS);
  const truth = new Map<number, Set<string>>();
  for (let i = 0; i < SUBJECTS; i += 5) {
    await Promise.all(
      Array.from({ length: 5 }, async (_, k) => {
        const c = i + k;
        const at = new Set([holders[c % holders.length]!, ...(c % 5 === 0 ? [holders[(c + 1) % holders.length]!] : [])]);
        for (const h of at) await publish(f, h, c);
        truth.set(c, at);
      }),
    );
  }
  return truth;
}

/** CPU ms per second this process spends with nobody searching (the filters' polling and rebuild checks). */
async function idleCpuPerSecond(): Promise<number> {
  const from = process.cpuUsage();
  await sleep(5000);
  return cpuSince(from) / 5;
}

/** Closed-loop searches by `from`, one at a time: p50/p95 latency, CPU per search net of idle, members asked. */
async function timed(f: Federation, from: string, idle: number) {
  const ms: number[] = [];
  const askedCounts: number[] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < TIMED_SEARCHES; s++) {
    const r = await search(f, from, s % SUBJECTS);
    ms.push(r.ms);
    askedCounts.push(asked(r.answer));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpuPerSearch = (cpuSince(cpu) - idle * wall) / TIMED_SEARCHES;
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), cpu: cpuPerSearch, asked: percentile(askedCounts, 50) };
}

async function recall(f: Federation, truth: Map<number, Set<string>>) {
  const holders = f.codes.slice(2, 2 + HOLDERS);
  // A child published 5 s before, and one retracted 5 s before.
  const fresh = SUBJECTS;
  await publish(f, holders[0]!, fresh);
  truth.set(fresh, new Set([holders[0]!]));
  const gone = SUBJECTS + 1;
  const goneId = await publish(f, holders[1]!, gone);
  await sleep(3000);
  await retractRecord(f.nodes.get(holders[1]!)!.publisher, 'EPISODE', goneId, 2);
  truth.set(gone, new Set());
  await sleep(5000);
  let missed = 0;
  let extra = 0;
  // Why a holder was missed: skipped by its filter (the locator's fault) or asked and not answering (the machine's).
  const missedAs = new Map<string, number>();
  const askedCounts: number[] = [];
  const order = [fresh, gone, ...Array.from({ length: RECALL_SEARCHES - 2 }, (_, s) => s % SUBJECTS)];
  for (const i of order) {
    const { answer } = await search(f, f.codes[0]!, i);
    const got = new Set(answer.strong.map((e) => e.episode.owner));
    for (const h of truth.get(i)!) {
      if (got.has(h)) continue;
      missed++;
      const status = answer.federation.members.find((m) => m.member === h)?.status ?? 'ABSENT';
      missedAs.set(status, (missedAs.get(status) ?? 0) + 1);
    }
    for (const h of got) if (!truth.get(i)!.has(h)) extra++;
    askedCounts.push(asked(answer));
  }
  let disagree = 0;
  for (let s = 0; s < FULL_FANOUT_SAMPLE; s++) {
    const i = order[s * Math.floor(order.length / FULL_FANOUT_SAMPLE)]!;
    const [loc, all] = [await search(f, f.codes[0]!, i), await search(f, f.codes[1]!, i)];
    if (owners(loc.answer) !== owners(all.answer)) disagree++;
  }
  console.log(
    `recall (${f.codes.length} members, ${order.length} searches incl. one published 5 s and one retracted 5 s before): ` +
      `missed holders ${missed}, unexpected holders ${extra}; against full fan-out on ${FULL_FANOUT_SAMPLE} searches: ${disagree} differ`,
  );
  if (missed > 0)
    console.log(
      `  missed holders by their status in the answer (NOT_HOLDING: skipped by the locator; others: asked, no answer): ` +
        [...missedAs].map(([s, n]) => `${s} x${n}`).join(', '),
    );
  const p50 = percentile(askedCounts, 50);
  console.log(
    `members asked per search: p50 ${p50} of ${f.codes.length} (${fmt((100 * p50) / f.codes.length)}%), p95 ${percentile(askedCounts, 95)}`,
  );
}

async function stopped(f: Federation, truth: Map<number, Set<string>>) {
  const candidates = f.codes.slice(2);
  const down = [...candidates].sort(() => Math.random() - 0.5).slice(0, Math.max(1, Math.round(f.codes.length * 0.02)));
  for (const c of down) await f.nodes.get(c)!.node.close();
  const share = async (from: string) => {
    let complete = 0;
    for (let s = 0; s < 20; s++) if ((await search(f, from, s % SUBJECTS)).answer.federation.completeness === 'COMPLETE') complete++;
    return complete / 20;
  };
  const holding = down.filter((c) => [...truth.values()].some((h) => h.has(c)));
  const [locNow, allNow] = [await share(f.codes[0]!), await share(f.codes[1]!)];
  await sleep(Number(LOCATOR.MCX_LOCATOR_MAX_AGE_MS) + 2000);
  const [locLater, allLater] = [await share(f.codes[0]!), await share(f.codes[1]!)];
  console.log(
    `${down.length} of ${f.codes.length} members stopped (${down.join(', ')}; ${holding.length} of them holders): COMPLETE share ` +
      `with the locator ${fmt(100 * locNow, 0)}% (filters fresh), ${fmt(100 * locLater, 0)}% (their filters stale); ` +
      `without ${fmt(100 * allNow, 0)}% / ${fmt(100 * allLater, 0)}%`,
  );
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-locator-bench-'));
  // Enterable by the postgres user, so the embedded server's data stays in this folder rather than a shared staging one.
  chmodSync(dir, 0o755);
  let adminUrl = process.env.DATABASE_URL;
  let stopPg = async () => {};
  if (!adminUrl) {
    const pgDir = path.join(dir, 'pg');
    const pg = await startEmbeddedPostgres({
      dataDir: pgDir,
      port: await freePort(),
      persistent: false,
      extraFlags: ['-c', 'max_connections=600'],
      logFile: path.join(tmpdir(), 'mcx-locator-bench-pg.log'),
    });
    adminUrl = pg.adminUrl;
    stopPg = () => pg.stop();
  }
  const rows: string[] = [];
  try {
    for (const n of SIZES) {
      const t0 = performance.now();
      const f = await startFederation(adminUrl, n, dir);
      const rss = process.memoryUsage().rss / 1024 / 1024;
      console.log(
        `\n${n} members up in ${fmt((performance.now() - t0) / 1000)} s; process RSS ${fmt(rss, 0)} MB (${fmt(rss / n, 0)} MB a node)`,
      );
      const t1 = performance.now();
      const truth = await seed(f);
      await seedHistoryChild(f.nodes, f.codes.slice(2, 6));
      console.log(`seeded ${truth.size} children on ${HOLDERS} members in ${fmt((performance.now() - t1) / 1000)} s`);
      await f.startCaller();
      await sleep(3000);
      const idle = await idleCpuPerSecond();
      console.log(
        `idle CPU (M001 long-polling ${n} filters, each asked at most every ${LOCATOR.MCX_LOCATOR_POLL_MS} ms; every node's rebuild checks): ${fmt(idle)} ms/s`,
      );
      // One childHistory: episodes at 3 members, associates at 4, a place near where the child was found at 1.
      for (const [who, code] of [
        ['locator', f.codes[0]!],
        ['full fan-out', f.codes[1]!],
      ] as const) {
        const h = await historyCalls(f.nodes.get(code)!);
        const line = `${String(n).padStart(3)} members | childHistory, ${who}: ${h.calls} peer calls in ${h.reads} reads, ${h.complete ? 'COMPLETE' : `PARTIAL ${[...h.problems, ...h.cuts].join(' ')}`}, ${h.locations} places near`;
        console.log(line);
        rows.push(line);
      }
      const on = await timed(f, f.codes[0]!, idle);
      const off = await timed(f, f.codes[1]!, idle);
      const line =
        `${String(n).padStart(3)} members | locator p50 ${fmt(on.p50)} p95 ${fmt(on.p95)} ms, CPU ${fmt(on.cpu)} ms/search, asked ${on.asked}` +
        ` | full fan-out p50 ${fmt(off.p50)} p95 ${fmt(off.p95)} ms, CPU ${fmt(off.cpu)} ms/search, asked ${off.asked}` +
        ` | ratio p95 ${fmt(off.p95 / on.p95, 2)}x, CPU ${fmt(off.cpu / on.cpu, 2)}x`;
      console.log(line);
      rows.push(line);
      if (n === SIZES[SIZES.length - 1]) {
        await recall(f, truth);
        await stopped(f, truth);
      }
      await f.close();
    }
    console.log(`\nsummary (noisy: a shared 2-core machine)\n${rows.join('\n')}`);
    if (logCounts.error > 0) console.log(`node log errors: ${logCounts.error} (first: ${logCounts.firstErrors.join(' | ')})`);
  } catch (err) {
    // Said before the server stops: a client of the stopping server may end the process first.
    console.error(err);
    throw err;
  } finally {
    await stopPg();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
