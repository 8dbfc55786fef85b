/** The SQL of appends to the audit chain (audit-store.ts): inserts of fixed text over arrays, and the one-statement group append. */
import { sql, type SQL } from 'drizzle-orm';

import { entryColumns, type ChainHead, type StoredEntry } from '@mcx/audit';

/** Another node's signed disclosure receipt (its entry id and latest checkpoint), for one of this node's entries. */
export type ReceiptRow = { peer: string; peerEntryId: string; receiptJws: string; ourSeq: number | null };

/** One advisory lock serialises appends across every replica writing to this database. */
export const AUDIT_CHAIN_LOCK = 7_364_812;

// Inserts of fixed text, whatever the number of rows: each column goes as one array and is
// unnested, so the server parses each statement once per connection. `record_ids` goes as a JSON
// array per entry (an array of arrays does not unnest) and comes out in its order; times go as
// text (drizzle hands timestamp arrays to the driver unserialised). `from` names what the rows are
// joined to (the chain lock's CTE in the one-statement append), ending in a comma.
export function entriesInsert(stored: readonly StoredEntry[], from: SQL = sql``): SQL {
  const columns = stored.map((s) => entryColumns(s.entry));
  const arrays: [unknown[], 'bigint' | 'text'][] = [
    [stored.map((s) => s.seq), 'bigint'],
    [stored.map((s) => s.prevHash), 'text'],
    [stored.map((s) => s.hash), 'text'],
    [columns.map((c) => c.at), 'text'],
    [columns.map((c) => c.action), 'text'],
    [columns.map((c) => c.actorSubject), 'text'],
    [columns.map((c) => c.actorForce), 'text'],
    [columns.map((c) => c.requestingNode), 'text'],
    [columns.map((c) => c.purpose), 'text'],
    [columns.map((c) => c.caseRef), 'text'],
    [columns.map((c) => c.outcome), 'text'],
    [columns.map((c) => JSON.stringify(c.recordIds)), 'text'],
    [stored.map((s) => JSON.stringify(s.entry)), 'text'],
  ];
  const unnested = sql.join(
    arrays.map(([values, type]) => sql`${sql.param(values)}::${sql.raw(type)}[]`),
    sql`, `,
  );
  return sql`insert into audit_entries (seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node, purpose, case_ref, outcome, record_ids, entry)
    select e.seq, e.prev_hash, e.hash, e.at::timestamptz, e.action, e.actor_subject, e.actor_force, e.requesting_node, e.purpose, e.case_ref, e.outcome,
      array(select r.id from jsonb_array_elements_text(e.record_ids::jsonb) with ordinality as r(id, n) order by r.n), e.entry::jsonb
    from ${from} unnest(${unnested})
      as e(seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node, purpose, case_ref, outcome, record_ids, entry)`;
}

export function receiptsInsert(receipts: readonly ReceiptRow[], from: SQL = sql``): SQL {
  return sql`insert into audit_receipts (peer, peer_entry_id, receipt_jws, our_seq)
    select r.peer, r.peer_entry_id, r.receipt_jws, r.our_seq
    from ${from} unnest(${sql.param(receipts.map((r) => r.peer))}::text[], ${sql.param(receipts.map((r) => r.peerEntryId))}::text[],
      ${sql.param(receipts.map((r) => r.receiptJws))}::text[], ${sql.param(receipts.map((r) => r.ourSeq))}::bigint[])
      as r(peer, peer_entry_id, receipt_jws, our_seq)`;
}

/**
 * One group append in one statement, chained onto `guess`: the chain lock, then (only while the
 * row at the guessed head still holds the guessed hash) the receipts and the entries. Answers
 * whether the guess held; when it did not (the chain went back: a restore, a failover that lost
 * its tail, rows deleted), nothing was written.
 */
export function guessedAppend(guess: ChainHead | null, stored: readonly StoredEntry[], receipts: readonly ReceiptRow[]): SQL {
  const at = guess ?? { seq: 0, hash: '' };
  return sql`with lock as (select pg_advisory_xact_lock(${sql.raw(String(AUDIT_CHAIN_LOCK))}) /* auditChainLock */),
    ok as (select true from lock where ${at.seq}::bigint = 0 or exists (select 1 from audit_entries where seq = ${at.seq}::bigint and hash = ${at.hash}::text)),
    receipts as (${receiptsInsert(receipts, sql`ok,`)}),
    entries as (${entriesInsert(stored, sql`ok,`)})
    select count(*)::int as held from ok`;
}

/** The insert lost to another writer of the chain: a row with its `seq` had committed (drizzle wraps the driver's error as its cause). */
export function movedMeanwhile(err: unknown): boolean {
  for (let e = err as { code?: string; constraint_name?: string; cause?: unknown } | null, depth = 0; e && depth < 3; depth++) {
    if (e.code === '23505' && e.constraint_name === 'audit_entries_pkey') return true;
    e = e.cause as typeof e;
  }
  return false;
}
