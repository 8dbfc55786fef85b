// Alerts on 10 real nodes on loopback (one process, one PostgreSQL, a real linkage service): the
// latency from an OPEN episode's publish at GMP to the alert in each holder's inbox (p50/p95),
// and the outbox's throughput for a batch of OPEN episodes (rows relayed per second, alerts
// stored at the holders per second). Run: npx tsx tests/bench/alerts-bench.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import postgres from 'postgres';

import { createDevIssuer, devAudience } from '@mcx/auth';
import { createClient, PublishEpisodesDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { createFreshDatabase, runMigrations } from '@mcx/db';
import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';
import { parseConfig, startNode, type RunningNode } from '@mcx/node';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort } from '../testkit/federation.js';
import { NODE_ENV, nodeLogger, reviewAt, TEN } from './federation-bench-nodes.js';
import { percentile, startBenchServer } from './federation-bench-support.js';

const PUBLISHER = 'GMP';
const HOLDERS = TEN.filter((f) => f !== PUBLISHER);
const LATENCY_EPISODES = 20;
const BATCH = 50;
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const children = syntheticChildren(LATENCY_EPISODES + BATCH, { seed: 909090, referenceDate: '2026-11-22', nhsShare: 0 });
const identityOf = (i: number) => {
  const c = children[i]!;
  return { forename: c.forename, surname: c.surname, dob: c.dob, sex: c.sex ? SEX[c.sex] : undefined };
};

const server = await startBenchServer();
const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-alerts-bench-'));
const ports = Object.fromEntries(await Promise.all(TEN.map(async (f) => [f, await freePort()] as const)));
const fed = await createFederation(TEN, {
  endpoints: Object.fromEntries(TEN.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
  capabilities: PEER_OPERATIONS.map((op) => op.name),
  linkageDatabaseUrl: await createFreshDatabase(server.adminUrl, 'mcx_alertbench_linkage'),
});
const urls: Record<string, string> = {};
for (const force of TEN) {
  urls[force] = await createFreshDatabase(server.adminUrl, `mcx_alertbench_${force.toLowerCase()}`);
  await runMigrations(urls[force]!);
}
const nodes: Record<string, { node: RunningNode; publisher: McxClient; sql: postgres.Sql }> = {};
await Promise.all(
  TEN.map(async (force) => {
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
    const token = await issuer.mintToken({
      roles: ['publisher'],
      force,
      orgKind: 'police',
      subject: 'bench',
      kind: 'client',
      ttlSec: 3600,
      audience: devAudience(force),
    });
    nodes[force] = { node, publisher: createClient({ url: node.url, token }), sql: postgres(urls[force]!, { max: 2, onnotice: () => {} }) };
  }),
);
// Every child at GMP and at every holder.
for (const force of TEN) {
  for (let i = 0; i < children.length; i++) {
    const { publishSubject } = await nodes[force]!.publisher.request(PublishSubjectDocument, {
      input: { subjectRef: `${force}-C${i}`, reviewAt, identity: identityOf(i) },
    });
    if (publishSubject.errors.length) throw new Error(`publishSubject at ${force}`);
  }
}
const inboxCount = async (force: string) => Number((await nodes[force]!.sql`select count(*)::int as n from alert_inbox`)[0]!.n);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

// 1. Publish to inbox, one OPEN episode at a time.
const latencies: number[] = [];
for (let i = 0; i < LATENCY_EPISODES; i++) {
  const input = episodeInput({ subjectRef: `${PUBLISHER}-C${i}`, status: 'OPEN', foundAt: null, foundPlace: null, foundBy: null });
  const t0 = Date.now();
  const { errors } = await publishEpisode(nodes[PUBLISHER]!.publisher, input);
  if (errors.length) throw new Error('publishEpisode');
  const pending = new Set(HOLDERS);
  while (pending.size > 0) {
    for (const h of [...pending]) {
      const rows = await nodes[h]!.sql`select received_at from alert_inbox where body->'episode'->>'id' = ${input.id!}`;
      if (rows.length) {
        latencies.push(new Date(rows[0]!.received_at as string).getTime() - t0);
        pending.delete(h);
      }
    }
    if (Date.now() - t0 > 30_000) throw new Error(`alerts not delivered within 30 s: ${[...pending].join(',')}`);
    await wait(20);
  }
}

// 2. Outbox throughput: one batch of OPEN episodes, each alerting 9 holders.
const before = Object.fromEntries(await Promise.all(HOLDERS.map(async (h) => [h, await inboxCount(h)] as const)));
const inputs = Array.from({ length: BATCH }, (_, k) =>
  episodeInput({ subjectRef: `${PUBLISHER}-C${LATENCY_EPISODES + k}`, status: 'OPEN', foundAt: null, foundPlace: null, foundBy: null }),
);
const t1 = Date.now();
const { publishEpisodes } = await nodes[PUBLISHER]!.publisher.request(PublishEpisodesDocument, { inputs });
if (publishEpisodes.errors.length) throw new Error('publishEpisodes');
let relayedAt = 0;
for (;;) {
  const [o] = await nodes[PUBLISHER]!.sql`select count(*)::int as n from alert_outbox where enqueued_at is null`;
  if (!relayedAt && Number(o!.n) === 0) relayedAt = Date.now();
  const stored = (await Promise.all(HOLDERS.map(async (h) => (await inboxCount(h)) - before[h]!))).reduce((a, b) => a + b, 0);
  if (relayedAt && stored >= BATCH * HOLDERS.length) break;
  if (Date.now() - t1 > 300_000) throw new Error(`batch not delivered within 300 s (${stored} alerts)`);
  await wait(100);
}
const t2 = Date.now();

console.log(`alerts bench: ${TEN.length} nodes, ${HOLDERS.length} holders per child, PostgreSQL ${server.kind} (${server.settings})`);
console.log(
  `publish-to-inbox (${latencies.length} alerts, one episode at a time): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${Math.max(...latencies)} ms`,
);
console.log(
  `outbox batch of ${BATCH} OPEN episodes: relayed to the queue in ${relayedAt - t1} ms (${((BATCH * 1000) / (relayedAt - t1)).toFixed(0)} rows/s); ` +
    `${BATCH * HOLDERS.length} alerts stored at the holders in ${t2 - t1} ms (${((BATCH * HOLDERS.length * 1000) / (t2 - t1)).toFixed(1)} alerts/s)`,
);
for (const n of Object.values(nodes)) {
  await n.sql.end({ timeout: 5 });
  await n.node.close().catch(() => undefined);
}
await fed.close();
await server.stop();
