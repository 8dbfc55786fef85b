// Does signing every record slow publishing? Publishes batches of 1,000 episodes through the
// node's real write path (validation, canonical JSON, Postgres), alternating signed and
// unsigned batches in the same run, and prints the medians and their ratio.
//   npx tsx tests/bench/signing-bench.ts [rounds]
import { createDb } from '@mcx/db';
import { generateNodeKeys, RecordService, RecordStore } from '@mcx/node';
import { canonicalJson } from '@mcx/signing';

import { episodeSpec } from '../../services/node/src/modules/episode/episode-spec.js';
import { episodeInput } from '../testkit/episodes.js';
import { benchDatabase, median } from './bench-postgres.js';

const ROUNDS = Number(process.argv[2] ?? 8);
const BATCH = 1000;

const pg = await benchDatabase();
const db = createDb(pg.url, { max: 4 });
const keys = generateNodeKeys();
const common = {
  store: new RecordStore(db.db),
  recordKey: keys.record,
  forceCode: 'WMP',
  clockSkewSeconds: 300,
  isKnownOrganisation: () => true,
  isKnownAuthority: () => true,
};
const signed = new RecordService(common);
// The baseline does everything but sign: it still canonicalises the record it stores.
const unsigned = new RecordService({ ...common, sign: (record) => ({ bytes: canonicalJson(record), signature: 'unsigned' }) });

async function timeBatch(service: RecordService): Promise<number> {
  const inputs = Array.from({ length: BATCH }, () => episodeInput());
  const started = process.hrtime.bigint();
  const { errors } = await service.publishBatch(episodeSpec, inputs);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (errors.length > 0) throw new Error(JSON.stringify(errors.slice(0, 3)));
  return ms;
}

await timeBatch(signed);
await timeBatch(unsigned); // warm-up
const times = { signed: [] as number[], unsigned: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  // Alternate the order so drift on a shared machine hits both equally.
  if (i % 2) {
    times.signed.push(await timeBatch(signed));
    times.unsigned.push(await timeBatch(unsigned));
  } else {
    times.unsigned.push(await timeBatch(unsigned));
    times.signed.push(await timeBatch(signed));
  }
}
const s = median(times.signed);
const u = median(times.unsigned);
console.log(`publish batch of ${BATCH} episodes, ${ROUNDS} rounds each (median):`);
console.log(`  unsigned (baseline): ${u.toFixed(1)} ms  (${((BATCH / u) * 1000).toFixed(0)} records/s)`);
console.log(`  signed:              ${s.toFixed(1)} ms  (${((BATCH / s) * 1000).toFixed(0)} records/s)`);
console.log(`  ratio signed/unsigned: ${(s / u).toFixed(3)}  (target <= 1.25)`);
await db.close();
await pg.stop();
