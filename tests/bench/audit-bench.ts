// What does auditing cost a read, and how fast does the chain append with durable commits?
//   npx tsx tests/bench/audit-bench.ts
// Reads: the same record read through the node's RecordService, with and without its audit
// entry (consultation, committed before the read returns), alternating rounds, 16 in flight.
// Appends: entries/s through AuditService (group commit under the chain's advisory lock).
// Export: the log read whole (the auditExport field) against a chunk at a time (GET /audit/export);
// MCX_BENCH_EXPORT_ENTRIES=100000 grows the log first (the field's limit), for a longer export.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { APP_ROLE, createDb } from '@mcx/db';
import { createLogger } from '@mcx/logger';
import { generateNodeKeys, RecordService, RecordStore } from '@mcx/node';

import { AuditService } from '../../services/node/src/modules/audit/audit-service.js';
import { AuditStore } from '../../services/node/src/modules/audit/audit-store.js';
import { episodeSpec } from '../../services/node/src/modules/episode/episode-spec.js';
import { episodeInput } from '../testkit/episodes.js';
import { benchDatabase, median } from './bench-postgres.js';

const CONCURRENCY = 16;
const READS_PER_ROUND = 3000;
const ROUNDS = 4;

const pg = await benchDatabase();
const db = createDb(pg.url, { max: CONCURRENCY, role: APP_ROLE });
const settings = await db.sql<
  { name: string; setting: string }[]
>`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method')`;
const keys = generateNodeKeys();
const records = new RecordService({
  store: new RecordStore(db.db),
  recordKey: keys.record,
  forceCode: 'WMP',
  clockSkewSeconds: 300,
  isKnownOrganisation: () => true,
  isKnownAuthority: () => true,
});
const audit = new AuditService({
  store: new AuditStore(db.db),
  node: 'WMP',
  auditKey: keys.auditCheckpoint,
  logger: createLogger({ level: 'silent' }),
});
const viewer = {
  subject: 'bench-investigator',
  issuer: 'bench',
  force: 'WMP',
  orgKind: 'police' as const,
  roles: ['investigator' as const],
  tokenKind: 'user' as const,
};

const inputs = Array.from({ length: 1000 }, () => episodeInput());
const { errors } = await records.publishBatch(episodeSpec, inputs);
if (errors.length) throw new Error(JSON.stringify(errors.slice(0, 2)));
const ids = inputs.map((i) => i.id!);

async function run(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

const plainRead = (i: number) => records.get('episode', 'WMP', ids[i % ids.length]!);
const auditedRead = async (i: number) => {
  const id = ids[i % ids.length]!;
  const found = await records.get('episode', 'WMP', id);
  await audit.record({
    action: 'consultation',
    viewer,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: 'WMP-26-1',
    operation: 'localEpisode',
    queryIds: [`WMP/${id}`],
    recordIds: found ? [`WMP/${id}`] : [],
    outcome: 'success',
  });
  return found;
};

await run(500, plainRead);
await run(500, auditedRead); // warm-up
const plain: number[] = [];
const audited: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2) {
    audited.push(await run(READS_PER_ROUND, auditedRead));
    plain.push(await run(READS_PER_ROUND, plainRead));
  } else {
    plain.push(await run(READS_PER_ROUND, plainRead));
    audited.push(await run(READS_PER_ROUND, auditedRead));
  }
}
const appendRate = await run(10_000, () =>
  audit.record({
    action: 'consultation',
    viewer,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: 'WMP-26-1',
    operation: 'bench',
    recordIds: [],
    outcome: 'success',
  }),
);
let sequential = 0;
{
  const started = process.hrtime.bigint();
  for (let i = 0; i < 500; i++)
    await audit.record({
      action: 'consultation',
      viewer,
      purpose: null,
      caseRef: null,
      operation: 'bench-seq',
      recordIds: [],
      outcome: 'success',
    });
  sequential = 500 / (Number(process.hrtime.bigint() - started) / 1e9);
}
await audit.checkpoint();
const check = await audit.integrity();

// A longer log for the export, if asked (MCX_BENCH_EXPORT_ENTRIES, at most the field's 100,000), appended as every entry is.
const exportTarget = Math.min(Number(process.env.MCX_BENCH_EXPORT_ENTRIES ?? 0), 100_000);
if (exportTarget > check.entries)
  await run(exportTarget - check.entries, () =>
    audit.record({
      action: 'consultation',
      viewer,
      purpose: null,
      caseRef: null,
      operation: 'bench-export',
      recordIds: [],
      outcome: 'success',
    }),
  );

/** The export read whole (the auditExport field) or chunk by chunk (GET /audit/export): time, the node's loop delay p99, peak RSS growth. */
async function exportRun(consume: () => Promise<number>) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  loop.enable();
  const started = performance.now();
  const bytes = await consume();
  const ms = performance.now() - started;
  loop.disable();
  clearInterval(sampler);
  return { ms, bytes, loopP99: loop.percentile(99) / 1e6, rssMiB: (peak - rss0) / 2 ** 20 };
}
const whole = () => audit.exportJsonl().then((text) => Buffer.byteLength(text));
const streamed = async () => {
  let bytes = 0;
  for await (const chunk of audit.exportChunks()) bytes += Buffer.byteLength(chunk);
  return bytes;
};
await exportRun(whole);
await exportRun(streamed); // warm-up
const exports: Record<'whole' | 'streamed', Awaited<ReturnType<typeof exportRun>>[]> = { whole: [], streamed: [] };
for (let r = 0; r < 4; r++)
  for (const kind of r % 2 ? (['streamed', 'whole'] as const) : (['whole', 'streamed'] as const))
    exports[kind].push(await exportRun(kind === 'whole' ? whole : streamed));
const exportLine = (kind: 'whole' | 'streamed') => {
  const runs = exports[kind];
  const m = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
  return `${m((r) => r.ms).toFixed(0)} ms, loop delay p99 ${m((r) => r.loopP99).toFixed(1)} ms, peak RSS +${m((r) => r.rssMiB).toFixed(0)} MiB`;
};

console.log(`postgres: ${settings.map((s) => `${s.name}=${s.setting}`).join(' ')}`);
console.log(`reads, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${READS_PER_ROUND} (median reads/s):`);
console.log(`  without audit (baseline): ${median(plain).toFixed(0)}`);
console.log(`  audited:                  ${median(audited).toFixed(0)}`);
console.log(`  ratio audited/baseline:   ${(median(audited) / median(plain)).toFixed(3)}  (target >= 0.5)`);
console.log(
  `appends, durable commits: ${appendRate.toFixed(0)} entries/s with ${CONCURRENCY} concurrent writers (group commit); ${sequential.toFixed(0)} entries/s one at a time  (target >= 1000)`,
);
console.log(`chain after the run: ${check.status}, ${check.entries} entries`);
console.log(
  `export of ${Math.max(check.entries, exportTarget)} entries (${(exports.whole[0]!.bytes / 2 ** 20).toFixed(1)} MiB), 4 alternating rounds (medians):`,
);
console.log(`  whole, one string (baseline): ${exportLine('whole')}`);
console.log(`  streamed, 500 a page:         ${exportLine('streamed')}`);
console.log(
  `  ratio streamed/whole: time ${(median(exports.streamed.map((r) => r.ms)) / median(exports.whole.map((r) => r.ms))).toFixed(2)}, loop p99 ${(median(exports.streamed.map((r) => r.loopP99)) / median(exports.whole.map((r) => r.loopP99))).toFixed(2)}`,
);
await db.close();
await pg.stop();
