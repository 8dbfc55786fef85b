// What does linkage cost? Per key: blind + finalise at the node, evaluation at the service.
// Then ingest: subjects published through the node's SubjectService and the real linkage
// service over loopback, against the floor those per-key costs give, in the same run.
//   npx tsx tests/bench/linkage-bench.ts [subjects]
import { APP_ROLE, createDb, createFreshDatabase } from '@mcx/db';
import {
  blindAll,
  buildKeyInputs,
  createHttpEvaluator,
  evaluateBatch,
  finalizeAll,
  generateOprfKey,
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

// 1. Per-key costs, in process, over the same identities' real key inputs.
const inputs = children.slice(SUBJECTS).flatMap((c) => buildKeyInputs(c, { role: 'record' }).map((k) => k.input));
const key = generateOprfKey('bench');
let t0 = process.hrtime.bigint();
const { blinded, state } = blindAll(inputs);
const blindMs = Number(process.hrtime.bigint() - t0) / 1e6;
t0 = process.hrtime.bigint();
const evaluated = evaluateBatch(key, blinded);
const evalMs = Number(process.hrtime.bigint() - t0) / 1e6;
t0 = process.hrtime.bigint();
finalizeAll(state, evaluated);
const finalizeMs = Number(process.hrtime.bigint() - t0) / 1e6;
const nodePerKey = (blindMs + finalizeMs) / inputs.length;
const servicePerKey = evalMs / inputs.length;

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
t0 = process.hrtime.bigint();
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
const ingestMs = Number(process.hrtime.bigint() - t0) / 1e6;
const [{ n }] = (await db.sql`select count(*)::int as n from linkage_keys`) as unknown as [{ n: number }];
// The floor: the OPRF CPU these keys need. Node and service share this one process's event
// loop here (in deployment the service is its own process), so their costs add up on one core.
const floorMs = n * (nodePerKey + servicePerKey);
console.log(
  `OPRF per key (${inputs.length} keys, one core): node blind+finalise ${nodePerKey.toFixed(2)} ms, service evaluate ${servicePerKey.toFixed(2)} ms`,
);
console.log(
  `ingest: ${SUBJECTS} subjects, ${n} linkage keys, ${ingestMs.toFixed(0)} ms = ${((SUBJECTS / ingestMs) * 1000).toFixed(1)} subjects/s`,
);
console.log(
  `floor from the per-key costs (one event loop): ${floorMs.toFixed(0)} ms; ratio measured/floor ${(ingestMs / floorMs).toFixed(2)}`,
);
await db.close();
await fed.close();
await pg.stop();
