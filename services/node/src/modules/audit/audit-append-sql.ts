/** The SQL of appends to the audit chain (audit-store.ts): inserts of fixed text over arrays, and the one-statement group append. */
import { sql, type SQL } from 'drizzle-orm';

import { entryColumns, type ChainHead, type StoredEntry } from '@mcx/audit';
import { DURABLE_COMMIT_SQL } from '@mcx/db';

/** Another node's signed disclosure receipt (its entry id and latest checkpoint), for one of this node's entries. */
export type ReceiptRow = { peer: string; peerEntryId: string; receiptJws: string; ourSeq: number | null };

/** One advisory lock serialises appends across every replica writing to this database. */
export const AUDIT_CHAIN_LOCK = 7_364_812;

// Inserts of fixed text, whatever the number of rows: each column goes as one array and is
// unnested, so the server parses each statement once per connection. `record_ids` goes as a JSON
// array per entry (an array of arrays does not unnest) and comes out in its order; times go as
// text (drizzle hands timestamp arrays to the driver unserialised). Each text numbers its
// parameters from `first`; `from` names what the rows are joined to (the chain lock's CTE in the
// one-statement append), ending in a comma.
const ENTRY_TYPES = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];
const RECEIPT_TYPES = ['text', 'text', 'text', 'bigint'];
const unnest = (types: string[], first: number) => `unnest(${types.map((t, i) => `$${first + i}::${t}[]`).join(', ')})`;

const entriesInsertText = (first: number, from = '') =>
  `insert into audit_entries (seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node, purpose, case_ref, outcome, record_ids, entry)
    select e.seq, e.prev_hash, e.hash, e.at::timestamptz, e.action, e.actor_subject, e.actor_force, e.requesting_node, e.purpose, e.case_ref, e.outcome,
      array(select r.id from jsonb_array_elements_text(e.record_ids::jsonb) with ordinality as r(id, n) order by r.n), e.entry::jsonb
    from ${from} ${unnest(ENTRY_TYPES, first)}
      as e(seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node, purpose, case_ref, outcome, record_ids, entry)`;

const receiptsInsertText = (first: number, from = '') =>
  `insert into audit_receipts (peer, peer_entry_id, receipt_jws, our_seq)
    select r.peer, r.peer_entry_id, r.receipt_jws, r.our_seq
    from ${from} ${unnest(RECEIPT_TYPES, first)} as r(peer, peer_entry_id, receipt_jws, our_seq)`;

/** The entries' columns as the inserts' arrays, in ENTRY_TYPES order. */
function entryArrays(stored: readonly StoredEntry[]): unknown[][] {
  const columns = stored.map((s) => entryColumns(s.entry));
  return [
    stored.map((s) => s.seq),
    stored.map((s) => s.prevHash),
    stored.map((s) => s.hash),
    columns.map((c) => c.at),
    columns.map((c) => c.action),
    columns.map((c) => c.actorSubject),
    columns.map((c) => c.actorForce),
    columns.map((c) => c.requestingNode),
    columns.map((c) => c.purpose),
    columns.map((c) => c.caseRef),
    columns.map((c) => c.outcome),
    columns.map((c) => JSON.stringify(c.recordIds)),
    stored.map((s) => JSON.stringify(s.entry)),
  ];
}

const receiptArrays = (receipts: readonly ReceiptRow[]): unknown[][] => [
  receipts.map((r) => r.peer),
  receipts.map((r) => r.peerEntryId),
  receipts.map((r) => r.receiptJws),
  receipts.map((r) => r.ourSeq),
];

/** A text with $1..$n run through drizzle (inside a drizzle transaction): its chunks raw, its parameters bound. */
function bound(text: string, params: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  return sql.join(
    parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql`${sql.param(params[Number(part) - 1])}`)),
    sql``,
  );
}

export const entriesInsert = (stored: readonly StoredEntry[]): SQL => bound(entriesInsertText(1), entryArrays(stored));

export const receiptsInsert = (receipts: readonly ReceiptRow[]): SQL => bound(receiptsInsertText(1), receiptArrays(receipts));

/**
 * One group append in one statement of fixed text, chained onto the guessed head ($1 seq, $2
 * hash; seq 0 for an empty chain): the chain lock (and a durable commit: DURABLE_COMMIT_SQL),
 * then (only while the row at the guessed head still holds the guessed hash) the receipts and
 * the entries. Answers whether the guess held;
 * when it did not (the chain went back: a restore, a failover that lost its tail, rows deleted),
 * nothing was written. Run by the driver itself (a named prepared statement, unless MCX_DB_PREPARE=false).
 */
export const GUESSED_APPEND = `with lock as (select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) /* auditChainLock */, ${DURABLE_COMMIT_SQL}),
    ok as (select true from lock where $1::bigint = 0 or exists (select 1 from audit_entries where seq = $1::bigint and hash = $2::text)),
    receipts as (${receiptsInsertText(3, 'ok,')}),
    entries as (${entriesInsertText(3 + RECEIPT_TYPES.length, 'ok,')})
    select count(*)::int as held from ok`;

/** GUESSED_APPEND's parameters. */
export function guessedAppendParams(guess: ChainHead | null, stored: readonly StoredEntry[], receipts: readonly ReceiptRow[]): unknown[] {
  const at = guess ?? { seq: 0, hash: '' };
  return [at.seq, at.hash, ...receiptArrays(receipts), ...entryArrays(stored)];
}

/** The insert lost to another writer of the chain: a row with its `seq` had committed (the driver's error, or one wrapping it). */
export function movedMeanwhile(err: unknown): boolean {
  for (let e = err as { code?: string; constraint_name?: string; cause?: unknown } | null, depth = 0; e && depth < 3; depth++) {
    if (e.code === '23505' && e.constraint_name === 'audit_entries_pkey') return true;
    e = e.cause as typeof e;
  }
  return false;
}
