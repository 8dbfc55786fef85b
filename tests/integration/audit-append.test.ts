// The audit chain's one-statement group append (AuditStore.appendWithReceipts) chains onto the
// head it last saw commit. These tests move the chain under it, the two ways a live node can see:
// another writer appending (the insert loses on seq), and the chain going back (a restore, a
// failover that lost its tail, rows deleted). Either way the next entry must link to the row
// really at the head: never a gap, never a link to a row that is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, type DbHandle } from '@mcx/db';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { createLogger } from '@mcx/logger';
import { AuditService, AuditStore, generateNodeKeys } from '@mcx/node';

const viewer = {
  subject: 'test-investigator',
  issuer: 'test',
  force: 'WMP',
  orgKind: 'police' as const,
  roles: ['investigator' as const],
  tokenKind: 'user' as const,
};
const event = (n: number) => ({
  action: 'consultation' as const,
  viewer,
  purpose: 'MISSING_LIVE_SEARCH',
  caseRef: 'WMP-26-1',
  operation: 'auditAppendTest',
  queryIds: [],
  recordIds: [`WMP/r-${n}-b`, `WMP/r-${n}-a`],
  outcome: 'success' as const,
});

describe('the one-statement audit append', () => {
  let db: DbHandle;
  let audit: AuditService;
  beforeAll(async () => {
    db = createDb(await freshMigratedDatabase(), { max: 2 });
    const keys = generateNodeKeys();
    audit = new AuditService({
      store: new AuditStore(db.db),
      node: 'WMP',
      auditKey: keys.auditCheckpoint,
      logger: createLogger({ level: 'silent' }),
    });
  });
  afterAll(() => db?.close());

  const chain = async () =>
    (
      await db.sql<{ seq: string; prev_hash: string; hash: string; record_ids: string[]; entry: { recordIds: string[] } }[]>`
      select seq, prev_hash, hash, record_ids, entry from audit_entries order by seq`
    ).map((r) => ({ ...r, seq: Number(r.seq) }));

  it('links every entry to the one before, with the record ids in their order, through appends made the other way', async () => {
    for (let i = 0; i < 3; i++) await audit.record(event(i));
    // Another writer (a write's own transaction) appends: the next group append loses on seq and goes again.
    await db.db.transaction((tx) => audit.recordInTx(tx, event(3)));
    await Promise.all([audit.record(event(4)), audit.record(event(5))]);
    const rows = await chain();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    for (const r of rows) expect(r.record_ids).toEqual(r.entry.recordIds);
    expect(rows[0]!.record_ids).toEqual(['WMP/r-0-b', 'WMP/r-0-a']);
  });

  it('after the chain went back (its last two rows deleted, as by a restore), the next entry links to the row now at the head', async () => {
    const before = await chain();
    await db.sql`delete from audit_entries where seq > ${before.length - 2}`;
    const stored = await audit.record(event(9));
    const rows = await chain();
    expect(stored.seq).toBe(before.length - 1);
    expect(rows.map((r) => r.seq)).toEqual(
      before
        .slice(0, -2)
        .map((r) => r.seq)
        .concat(before.length - 1),
    );
    expect(rows.at(-1)!.prev_hash).toBe(rows.at(-2)!.hash);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
  });

  it("stores a read's combination with its members' receipts in one write, and keeps the receipts when the entry cannot be built", async () => {
    const receiptsOf = async (ourSeq: number) =>
      (
        await db.sql<{ peer: string; our_seq: string }[]>`select peer, our_seq from audit_receipts where our_seq = ${ourSeq} order by peer`
      ).map((r) => r.peer);
    const consultation = await audit.record(event(20));
    const receipts = ['GMP', 'MPS'].map((peer) => ({ peer, peerEntryId: `${peer}:7`, receiptJws: `receipt-of-${peer}` }));
    const combination = await audit.recordWithReceipts({ ...event(21), action: 'combination' }, receipts, consultation.seq);
    expect(combination.seq).toBe(consultation.seq + 1);
    expect(await receiptsOf(consultation.seq)).toEqual(['GMP', 'MPS']);
    // An entry that cannot be built (more record ids than an entry holds): refused, and the receipts are kept.
    const second = await audit.record(event(22));
    const tooMany = { ...event(23), action: 'combination' as const, recordIds: Array.from({ length: 10_001 }, (_, i) => `WMP/r-${i}`) };
    await expect(audit.recordWithReceipts(tooMany, receipts, second.seq)).rejects.toThrow();
    expect(await receiptsOf(second.seq)).toEqual(['GMP', 'MPS']);
    expect((await chain()).at(-1)!.seq).toBe(second.seq);
  });
});
