// What does linkage cost? Per key: blind + finalise at the node, evaluation at the service,
// on @noble/curves (before) and libsodium (after), and libsodium on the OPRF worker thread.
// Then ingest: subjects published through the node's SubjectService and the real linkage
// service over loopback, against the floor those per-key costs give, in the same run.
//   npx tsx tests/bench/linkage-bench.ts [subjects]
import { ristretto255_oprf } from '@noble/curves/ed25519.js';

import { APP_ROLE, createDb, createFreshDatabase } from '@mcx/db';
import {
  blindAll,
  buildKeyInputs,
  createHttpEvaluator,
  evaluateBatch,
  finalizeAll,
  generateOprfKey,
  oprfOffThread,
  syntheticChildren,
} from '@mcx/linkage';
import { createLogger } from '@mcx/logger';

import { AuditService } from '../../services/node/src/modules/audit/audit-service.js';
import { AuditStore } from '../../services/node/src/modules/audit/audit-store.js';
import { SubjectService } from '../../services/node/src/modules/subject/subject-service.js';
import { SubjectStore } from '../../services/node/src/modules/subject/subject-store.js';
import { createFederation } from '../testkit/federation.js';
import { benchDatabase } from './bench-postgres.js';

const SUBJECTS = Number(process.argv[2] ?? 300);
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const children = syntheticChildren(SUBJECTS + 200, { seed: 7, referenceDate: '2026-11-22', nhsShare: 0.5 });

// 1. Per-key costs, in process, over the same identities' real key inputs: the OPRF as it was
// on @noble/curves (before) and on libsodium's WebAssembly (after), each warmed up first.
const inputs = children.slice(SUBJECTS).flatMap((c) => buildKeyInputs(c, { role: 'record' }).map((k) => k.input));
const key = generateOprfKey('bench');
const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

function nobleRound(batch: string[]) {
  const sk = Buffer.from(key.key, 'hex');
  let t0 = process.hrtime.bigint();
  const bytes = batch.map((s) => new TextEncoder().encode(s));
  const blinds = bytes.map((b) => ristretto255_oprf.oprf.blind(b));
  const blindMs = ms(t0);
  t0 = process.hrtime.bigint();
  const evaluated = blinds.map((b) => ristretto255_oprf.oprf.blindEvaluate(sk, b.blinded));
  const evalMs = ms(t0);
  t0 = process.hrtime.bigint();
  const keys = evaluated.map((e, i) => {
    const out = ristretto255_oprf.oprf.finalize(bytes[i]!, blinds[i]!.blind, e);
    return Buffer.from(out.subarray(0, 32)).toString('base64url');
  });
  return { keys, nodeMs: blindMs + ms(t0), evalMs };
}

function sodiumRound(batch: string[]) {
  let t0 = process.hrtime.bigint();
  const { blinded, state } = blindAll(batch);
  const blindMs = ms(t0);
  t0 = process.hrtime.bigint();
  const evaluated = evaluateBatch(key, blinded);
  const evalMs = ms(t0);
  t0 = process.hrtime.bigint();
  const keys = finalizeAll(state, evaluated);
  return { keys, nodeMs: blindMs + ms(t0), evalMs };
}

nobleRound(inputs.slice(0, 50));
sodiumRound(inputs.slice(0, 50));
const before = nobleRound(inputs);
const after = sodiumRound(inputs);
if (before.keys.join() !== after.keys.join()) throw new Error('libsodium and @noble/curves gave different linkage keys');
const nodePerKey = after.nodeMs / inputs.length;
const servicePerKey = after.evalMs / inputs.length;
const perKey = (r: { nodeMs: number; evalMs: number }) =>
  `node blind+finalise ${(r.nodeMs / inputs.length).toFixed(3)} ms, service evaluate ${(r.evalMs / inputs.length).toFixed(3)} ms`;
console.log(`OPRF per key (${inputs.length} keys, one core, the same keys from both):`);
console.log(`  before, @noble/curves:   ${perKey(before)}`);
console.log(`  after, libsodium (wasm): ${perKey(after)}`);
console.log(
  `  before/after: node ${(before.nodeMs / after.nodeMs).toFixed(1)}x, service ${(before.evalMs / after.evalMs).toFixed(1)}x, round ${((before.nodeMs + before.evalMs) / (after.nodeMs + after.evalMs)).toFixed(1)}x`,
);

// 1b. libsodium as the node and the service run it now: on the OPRF worker thread, a search's
// batch of 9 keys per hand-off (blind, evaluate, finalise). Per key: what it holds the event loop
// that serves requests (its busy time), and the whole process's CPU, every thread and the
// hand-offs included, beside the same rounds run on the event loop itself.
async function offThreadRounds(batch: string[], size: number) {
  const enc = new TextEncoder();
  const loop0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i + size <= batch.length; i += size) {
    const bytes = batch.slice(i, i + size).map((s) => enc.encode(s));
    const { blinded, blinds } = await oprfOffThread.blind(bytes, null);
    await oprfOffThread.finalize({ inputs: bytes, blinds }, await oprfOffThread.evaluate(key, blinded));
  }
  const cpu = process.cpuUsage(cpu0);
  return { loopMs: performance.eventLoopUtilization(loop0).active, cpuMs: (cpu.user + cpu.system) / 1000 };
}
function onLoopRounds(batch: string[], size: number) {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i + size <= batch.length; i += size) sodiumRound(batch.slice(i, i + size));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}
const SEARCH = 9;
const rounded = inputs.slice(0, inputs.length - (inputs.length % SEARCH));
await offThreadRounds(rounded.slice(0, 90), SEARCH);
const onLoop = onLoopRounds(rounded, SEARCH);
const off = await offThreadRounds(rounded, SEARCH);
const k = rounded.length;
console.log(
  `  on the worker thread, ${SEARCH} keys a hand-off: event loop ${(off.loopMs / k).toFixed(3)} ms/key (on the loop itself: ${(onLoop / k).toFixed(3)}), ` +
    `process CPU ${(off.cpuMs / k).toFixed(3)} ms/key (${(off.cpuMs / onLoop).toFixed(2)}x the loop's own)`,
);

// 2. Ingest through the node's service and the real linkage service (one process, 2 cores).
const pg = await benchDatabase();
const fed = await createFederation(['WMP'], {
  linkageEnv: { MCX_LINKAGE_RATE_PER_SECOND: '1000000', MCX_LINKAGE_BURST: '10000000' },
  linkageDatabaseUrl: await createFreshDatabase(pg.adminUrl, 'mcx_bench_linkage'),
});
const db = createDb(pg.url, { max: 8, role: APP_ROLE });
const keys = fed.keys.WMP!;
const logger = createLogger({ level: 'silent' });
const audit = new AuditService({ store: new AuditStore(db.db), node: 'WMP', auditKey: keys.auditCheckpoint, logger });
const subjects = new SubjectService({
  store: new SubjectStore(db.db),
  evaluator: createHttpEvaluator({ url: fed.linkage.url, member: 'WMP', peerTokenKey: keys.peerToken }),
  forceCode: 'WMP',
  digestKey: Buffer.alloc(32, 1),
});
const viewer = {
  subject: 'bench-rms',
  issuer: 'bench',
  force: 'WMP',
  orgKind: 'police' as const,
  roles: ['publisher' as const],
  tokenKind: 'client' as const,
};
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
let next = 0;
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: 4 }, async () => {
    for (let i = next++; i < SUBJECTS; i = next++) {
      const c = children[i]!;
      const r = await subjects.publish(
        {
          subjectRef: `S-${i}`,
          reviewAt,
          identity: { forename: c.forename, surname: c.surname, dob: c.dob, sex: c.sex ? SEX[c.sex] : null, nhsNumber: c.nhsNumber },
        },
        (tx, stored) =>
          audit.recordInTx(tx, { action: 'collection', viewer, operation: 'publishSubject', recordIds: stored, outcome: 'success' }),
      );
      if (r.errors.length) throw new Error(JSON.stringify(r.errors));
    }
  }),
);
const ingestMs = ms(t0);
const [{ n }] = (await db.sql`select count(*)::int as n from linkage_keys`) as unknown as [{ n: number }];
// The floor: the OPRF CPU these keys need. Node and service share this one process here (in
// deployment the service is its own process), and its one OPRF worker thread: their costs add up.
const floorMs = n * (nodePerKey + servicePerKey);
console.log(
  `ingest: ${SUBJECTS} subjects, ${n} linkage keys, ${ingestMs.toFixed(0)} ms = ${((SUBJECTS / ingestMs) * 1000).toFixed(1)} subjects/s`,
);
console.log(
  `floor from the per-key costs (node and service in one process): ${floorMs.toFixed(0)} ms; ratio measured/floor ${(ingestMs / floorMs).toFixed(2)}`,
);
await db.close();
await fed.close();
await pg.stop();
