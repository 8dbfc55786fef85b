// "Who has seen this child?" (the auditor's reads of a subject's records, AuditStore.readsOf) finds
// every successful read that touched any of the records, and no other entry, on a real chain; and
// its query can use the entry's GIN index on `recordIds` rather than scanning the whole log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, type DbHandle } from '@mcx/db';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { createLogger } from '@mcx/logger';
import { AuditService, AuditStore, generateNodeKeys } from '@mcx/node';

const viewer = {
  subject: 'test-auditor-reads',
  issuer: 'test',
  force: 'WMP',
  orgKind: 'police' as const,
  roles: ['investigator' as const],
  tokenKind: 'user' as const,
};
type Action = 'consultation' | 'disclosure' | 'combination' | 'alteration';
const event = (recordIds: string[], action: Action = 'consultation', outcome: 'success' | 'refused' = 'success') => ({
  action,
  viewer,
  purpose: 'MISSING_LIVE_SEARCH',
  caseRef: 'WMP-26-7',
  operation: 'auditReadsOfTest',
  queryIds: [],
  recordIds,
  outcome,
});
// Ids with the characters a JSON path string must escape, beside plain ones.
const QUOTED = 'WMP/a"b\\c';
const CHILD = ['WMP/child-1', 'WMP/episode-1', QUOTED];

describe("the auditor's reads of a child's records", () => {
  let db: DbHandle;
  let store: AuditStore;
  const seqs: Record<string, number> = {};
  beforeAll(async () => {
    db = createDb(await freshMigratedDatabase(), { max: 2 });
    store = new AuditStore(db.db);
    const audit = new AuditService({
      store,
      node: 'WMP',
      auditKey: generateNodeKeys().auditCheckpoint,
      logger: createLogger({ level: 'silent' }),
    });
    const log = async (name: string, e: ReturnType<typeof event>) => (seqs[name] = (await audit.record(e)).seq);
    await log('other', event(['WMP/someone-else', 'WMP/episode-10']));
    await log('subject', event(['WMP/child-1']));
    await log('disclosure', event(['GMP/x', 'WMP/episode-1'], 'disclosure'));
    await log('refused', event(['WMP/child-1'], 'consultation', 'refused'));
    await log('write', event(['WMP/episode-1'], 'alteration'));
    await log('quoted', event([QUOTED]));
    await log('prefix', event(['WMP/child-10', 'WMP/episode-1x']));
    await log('combination', event(['MPS/y', 'WMP/child-1', 'WMP/episode-1'], 'combination'));
  });
  afterAll(() => db?.close());

  it('finds the successful reads that touched any of the records, oldest first, and pages on', async () => {
    const all = await store.readsOf(CHILD, { first: 50, afterSeq: null });
    expect(all.map((r) => r.seq)).toEqual([seqs.subject, seqs.disclosure, seqs.quoted, seqs.combination]);
    const first = await store.readsOf(CHILD, { first: 2, afterSeq: null });
    const rest = await store.readsOf(CHILD, { first: 2, afterSeq: first.at(-1)!.seq });
    expect([...first, ...rest].map((r) => r.seq)).toEqual(all.map((r) => r.seq));
    expect(await store.readsOf([QUOTED], { first: 50, afterSeq: null })).toMatchObject([{ seq: seqs.quoted }]);
    expect(await store.readsOf(['WMP/nobody'], { first: 50, afterSeq: null })).toEqual([]);
    expect(await store.readsOf([], { first: 50, afterSeq: null })).toEqual([]);
    // A child with many records: asked a few hundred ids at a time, one answer in seq order.
    const many = [
      ...Array.from({ length: 450 }, (_, i) => `WMP/other-${i}`),
      'WMP/child-1',
      ...Array.from({ length: 300 }, (_, i) => `WMP/x-${i}`),
      QUOTED,
      'WMP/episode-1',
    ];
    expect((await store.readsOf(many, { first: 50, afterSeq: null })).map((r) => r.seq)).toEqual(all.map((r) => r.seq));
    expect((await store.readsOf(many, { first: 2, afterSeq: seqs.subject! })).map((r) => r.seq)).toEqual([seqs.disclosure, seqs.quoted]);
  });

  it("asks through the GIN index on the entry's record ids, whatever the number of ids", async () => {
    for (const ids of [CHILD.slice(0, 1), CHILD]) {
      const { sql, params } = store.readsOfQuery(ids, { first: 50, afterSeq: null }).toSQL();
      // A table this small is cheaper to scan: forbid the scans, so the plan shows what the query can use.
      const plan = await db.sql.begin(async (tx) => {
        await tx`set local enable_seqscan = off`;
        await tx`set local enable_indexscan = off`;
        return tx.unsafe(`explain (format json) ${sql}`, params as never[]);
      });
      expect(JSON.stringify(plan)).toContain('audit_entries_entry_records_idx');
    }
  });
});
