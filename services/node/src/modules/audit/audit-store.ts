import { and, asc, desc, eq, getTableColumns, gt, gte, sql, type SQL } from 'drizzle-orm';

import { chainEntries, type AuditEntry, type AuditEntryInput, type ChainHead, type StoredEntry } from '@mcx/audit';
import { anyOf, arrayParam, DURABLE_COMMIT_SQL, schema, type Database } from '@mcx/db';

import {
  AUDIT_CHAIN_LOCK,
  entriesInsert,
  GUESSED_APPEND,
  guessedAppendParams,
  movedMeanwhile,
  receiptsInsert,
  type ReceiptRow,
} from './audit-append-sql.js';
import { ReceiptReads } from './receipt-reads.js';

const { auditEntries, auditCheckpoints, auditReceipts, records, securityEvents } = schema;

/** A drizzle transaction (or the database itself) on which an append can run. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0] | Database;

export interface AuditFilter {
  actorSubject?: string | null;
  actorForce?: string | null;
  purpose?: string | null;
  caseRef?: string | null;
  recordId?: string | null;
  requestingNode?: string | null;
  action?: string | null;
  actions?: string[] | null;
  /** Operations left out (the fishing alerts leave out the locator's own node-to-node traffic). */
  notOperations?: string[] | null;
  outcome?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export type { ReceiptRow } from './audit-append-sql.js';

/** The record locator's node-to-node filter traffic (the caller's polling rounds, the owner's answers): audited, but no person's reads. */
export const LOCATOR_TRAFFIC = ['locatorRefresh', 'peerFilter'];

/** A row as stored, with its column copies as read back (the integrity checks compare them with the entry). */
function toStored(row: typeof auditEntries.$inferSelect): StoredEntry {
  return {
    seq: row.seq,
    prevHash: row.prevHash,
    hash: row.hash,
    entry: row.entry as AuditEntry,
    columns: {
      at: row.at.toISOString(),
      action: row.action,
      actorSubject: row.actorSubject,
      actorForce: row.actorForce,
      requestingNode: row.requestingNode,
      purpose: row.purpose,
      caseRef: row.caseRef,
      outcome: row.outcome,
      recordIds: row.recordIds,
    },
  };
}

// The filters read the hashed entry, never the column copies, so a copy edited outside the chain
// can neither hide a row from an auditor nor plant one. Each indexed expression is the one in
// packages/db/src/schema/audit.ts; `at` compares as text in "C" order, which for the entry's
// ISO 8601 UTC milliseconds (years 0000-9999) is time order.
const e = auditEntries.entry;
const IN_ENTRY = {
  at: sql`(${e}->>'at') collate "C"`,
  actorSubject: sql`(${e}->'actor'->>'subject')`,
  actorForce: sql`(${e}->'actor'->>'force')`,
  purpose: sql`(${e}->>'purpose')`,
  caseRef: sql`(${e}->>'caseRef')`,
  recordIds: sql`(${e}->'recordIds')`,
  requestingNode: sql`(${e}->>'requestingNode')`,
  action: sql`(${e}->>'action')`,
  outcome: sql`(${e}->>'outcome')`,
  operation: sql`coalesce(${e}->'query'->>'operation', '')`,
};
/**
 * A JSON path true of an entry's `recordIds` holding any of `ids`, as one parameter: `@?` with it can
 * use the entry's `jsonb_path_ops` GIN index (`?|` cannot, and scanned the whole log), and the
 * statement's text is the same whatever the number of ids. Each id goes in as a JSON string literal,
 * which a JSON path string accepts as it is.
 */
function anyRecordIdPath(ids: readonly string[]): SQL {
  return sql`${`$[*] ? (${ids.map((id) => `@ == ${JSON.stringify(id)}`).join(' || ')})`}::jsonpath`;
}
/** How many record ids one `readsOf` query asks after. */
const READS_OF_CHUNK = 200;
const MIN_AT = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_AT = Date.parse('9999-12-31T23:59:59.999Z');

/** A time bound as the entry writes times, clamped to the years the text order holds for. */
function atBound(date: Date): string {
  return new Date(Math.min(MAX_AT, Math.max(MIN_AT, date.getTime()))).toISOString();
}

/** SQL for the audit chain: serialised appends, filtered reads, checkpoints and receipts. */
export class AuditStore {
  /** The receipts other members gave this node, as its witnesses (receipt-reads.ts). */
  readonly receipts: ReceiptReads;

  constructor(private readonly db: Database) {
    this.receipts = new ReceiptReads(db);
  }

  /**
   * Appends entries to the chain inside `tx` (the caller's transaction, so a write and its
   * entry commit together), under the chain lock. Returns the stored entries.
   */
  appendInTx(tx: Tx, entries: readonly AuditEntryInput[]): Promise<StoredEntry[]> {
    return this.#appendLocked(tx, entries);
  }

  async #appendLocked(tx: Tx, entries: readonly AuditEntryInput[]): Promise<StoredEntry[]> {
    if (entries.length === 0) return [];
    // The lock, and a durable commit for the transaction whatever the session's synchronous_commit.
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) /* auditChainLock */, ${sql.raw(DURABLE_COMMIT_SQL)}`);
    const [head] = await tx
      .select({ seq: auditEntries.seq, hash: auditEntries.hash })
      .from(auditEntries)
      .orderBy(desc(auditEntries.seq))
      .limit(1);
    const stored = chainEntries(head ?? null, entries);
    await tx.execute(entriesInsert(stored));
    return stored;
  }

  /**
   * Appends entries and stores other nodes' receipts together (a group commit); durable before it
   * resolves. Usually one statement and one round trip: the entries are chained onto the head this
   * store last saw commit, and the statement takes the chain lock before inserting. If another
   * writer (a write's own transaction, another replica) moved the chain meanwhile, the insert
   * fails on `seq` (the primary key sees every committed row, whatever the statement's snapshot);
   * if the chain went back (the guessed head's row is gone or changed), nothing is inserted. Either
   * way nothing of it stays, and the append runs again in the locked transaction, which reads the head.
   */
  async appendWithReceipts(entries: readonly AuditEntryInput[], receipts: readonly ReceiptRow[]): Promise<StoredEntry[]> {
    if (entries.length === 0 && receipts.length === 0) return [];
    const guess = this.#head;
    if (guess !== undefined) {
      const stored = chainEntries(guess, entries);
      try {
        const [held] = await this.db.$client.unsafe<{ held: number }[]>(
          GUESSED_APPEND,
          guessedAppendParams(guess, stored, receipts) as never[],
          {
            prepare: true,
          },
        );
        if (held?.held === 1) {
          this.#head = stored.at(-1) ?? guess;
          return stored;
        }
        this.#head = undefined;
      } catch (err) {
        this.#head = undefined;
        if (!movedMeanwhile(err)) throw err;
      }
    }
    const stored = await this.db.transaction(async (tx) => {
      // Receipts alone take no chain lock (#appendLocked returns at once): their commit is made durable here.
      if (entries.length === 0) await tx.execute(sql`select ${sql.raw(DURABLE_COMMIT_SQL)}`);
      if (receipts.length > 0) await tx.execute(receiptsInsert(receipts));
      return this.#appendLocked(tx, entries);
    });
    this.#head = stored.at(-1) ?? undefined;
    return stored;
  }

  // The head this store's last group append committed; undefined until one has (or after a conflict).
  #head: ChainHead | null | undefined = undefined;

  async head(): Promise<ChainHead | null> {
    const [head] = await this.db
      .select({ seq: auditEntries.seq, hash: auditEntries.hash })
      .from(auditEntries)
      .orderBy(desc(auditEntries.seq))
      .limit(1);
    return head ?? null;
  }

  /** Entries matching a filter, oldest first from `afterSeq`, at most `first`. */
  async list(filter: AuditFilter, opts: { first: number; afterSeq?: number | null }): Promise<StoredEntry[]> {
    const where: (SQL | undefined)[] = [
      filter.actorSubject ? sql`${IN_ENTRY.actorSubject} = ${filter.actorSubject}` : undefined,
      filter.actorForce ? sql`${IN_ENTRY.actorForce} = ${filter.actorForce}` : undefined,
      filter.purpose ? sql`${IN_ENTRY.purpose} = ${filter.purpose}` : undefined,
      filter.caseRef ? sql`${IN_ENTRY.caseRef} = ${filter.caseRef}` : undefined,
      filter.recordId ? sql`${IN_ENTRY.recordIds} @> jsonb_build_array(${filter.recordId}::text)` : undefined,
      filter.requestingNode ? sql`${IN_ENTRY.requestingNode} = ${filter.requestingNode}` : undefined,
      filter.action ? sql`${IN_ENTRY.action} = ${filter.action}` : undefined,
      filter.actions?.length ? anyOf(IN_ENTRY.action, filter.actions, 'text') : undefined,
      filter.notOperations?.length ? sql`not (${anyOf(IN_ENTRY.operation, filter.notOperations, 'text')})` : undefined,
      filter.outcome ? sql`${IN_ENTRY.outcome} = ${filter.outcome}` : undefined,
      filter.from ? sql`${IN_ENTRY.at} >= ${atBound(filter.from)}` : undefined,
      filter.to ? sql`${IN_ENTRY.at} <= ${atBound(filter.to)}` : undefined,
      opts.afterSeq ? gt(auditEntries.seq, opts.afterSeq) : undefined,
    ];
    const rows = await this.db
      .select()
      .from(auditEntries)
      .where(and(...where))
      .orderBy(asc(auditEntries.seq))
      .limit(opts.first);
    return rows.map(toStored);
  }

  /** At most `limit` rows from `fromSeq` on, in seq order (the check before a checkpoint pages through these). */
  async range(fromSeq: number, limit: number): Promise<StoredEntry[]> {
    return (
      await this.db.select().from(auditEntries).where(gte(auditEntries.seq, fromSeq)).orderBy(asc(auditEntries.seq)).limit(limit)
    ).map(toStored);
  }

  /**
   * Every row in seq order, `size` at a time, through one cursor (the full integrity check): one
   * snapshot, every row once whatever its seq (none below 1, beyond 2^53 or twice is skipped, as
   * paging by seq would), each page fetched when the last has been used.
   */
  async *pages(size: number): AsyncGenerator<StoredEntry[]> {
    const cursor = this.db.$client<Record<string, unknown>[]>`
      select seq, prev_hash as "prevHash", hash, entry, at, action, actor_subject as "actorSubject", actor_force as "actorForce",
        requesting_node as "requestingNode", purpose, case_ref as "caseRef", outcome, record_ids as "recordIds"
      from audit_entries order by seq`.cursor(size);
    // Each value mapped by its column as drizzle maps every other read (a seq past 2^53 becomes the
    // nearest double: not the seq the chain expects there, so the walk stops at it).
    const columns = getTableColumns(auditEntries) as Record<string, { mapFromDriverValue(v: unknown): unknown }>;
    const mapped = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : columns[k]!.mapFromDriverValue(v)]));
    for await (const rows of cursor) yield rows.map((r) => toStored(mapped(r) as typeof auditEntries.$inferSelect));
  }

  /** The row at `seq`, or null. */
  async entryAt(seq: number): Promise<StoredEntry | null> {
    const [row] = await this.db.select().from(auditEntries).where(eq(auditEntries.seq, seq));
    return row ? toStored(row) : null;
  }

  /** The stored hash of each of `seqs` that exists (seq to hash). */
  async hashesAt(seqs: readonly number[]): Promise<Map<number, string>> {
    if (seqs.length === 0) return new Map();
    const rows = await this.db
      .select({ seq: auditEntries.seq, hash: auditEntries.hash })
      .from(auditEntries)
      .where(anyOf(auditEntries.seq, seqs, 'bigint'));
    return new Map(rows.map((r) => [r.seq, r.hash]));
  }

  /** The latest `limit` checkpoint rows, newest (largest size) first, as stored: not yet verified. */
  async recentCheckpoints(limit: number): Promise<{ size: number; headHash: string; jws: string }[]> {
    return this.db
      .select({ size: auditCheckpoints.size, headHash: auditCheckpoints.headHash, jws: auditCheckpoints.jws })
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.size))
      .limit(limit);
  }

  /** The checkpoints of at most `maxSize` entries (those signed by then), in size order, `size` at a time through one cursor (the streamed export). */
  async *checkpointPages(maxSize: number, size: number): AsyncGenerator<string[]> {
    const query = this.db.$client<{ jws: string }[]>`select jws from audit_checkpoints where size <= ${maxSize} order by size`;
    for await (const rows of query.cursor(size)) yield rows.map((r) => r.jws);
  }

  async checkpoints(): Promise<string[]> {
    return (await this.db.select({ jws: auditCheckpoints.jws }).from(auditCheckpoints).orderBy(asc(auditCheckpoints.size))).map(
      (r) => r.jws,
    );
  }

  async lastCheckpointSize(): Promise<number> {
    const [row] = await this.db
      .select({ size: auditCheckpoints.size })
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.size))
      .limit(1);
    return row?.size ?? 0;
  }

  /** Stores a signed checkpoint; false when one of that size is stored already (another replica's, or the retired key's). */
  async saveCheckpoint(size: number, headHash: string, jws: string): Promise<boolean> {
    const saved = await this.db
      .insert(auditCheckpoints)
      .values({ size, headHash, jws })
      .onConflictDoNothing()
      .returning({ size: auditCheckpoints.size });
    return saved.length > 0;
  }

  /** The latest signed checkpoint's JWS, or null. */
  async latestCheckpointJws(): Promise<string | null> {
    const [row] = await this.db.select({ jws: auditCheckpoints.jws }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.size)).limit(1);
    return row?.jws ?? null;
  }

  /** The ids (`owner/id`) of this node's records of these subjects: the subject records and their episodes. */
  async recordIdsOfSubjects(owner: string, subjectRefs: readonly string[]): Promise<string[]> {
    if (subjectRefs.length === 0) return [];
    const refs = arrayParam(subjectRefs, 'text');
    const rows = await this.db
      .select({ owner: records.owner, id: records.id })
      .from(records)
      .where(
        and(
          eq(records.owner, owner),
          sql`(${records.subjectRef} = any(${refs}) or (${records.kind} = 'subject' and ${records.id} = any(${refs})))`,
        ),
      );
    return rows.map((r) => `${r.owner}/${r.id}`);
  }

  /** Successful reads (consultations, disclosures, combinations) that touched any of `recordIds`, oldest first. */
  async readsOf(recordIds: readonly string[], opts: { first: number; afterSeq: number | null }): Promise<StoredEntry[]> {
    if (recordIds.length === 0) return [];
    // A JSON path's cost grows faster than its length (and a huge one can crash the server): a
    // child's records are asked after READS_OF_CHUNK ids at a time, and the pages merged.
    // One snapshot for every chunk: an entry committed between two of them is in all or none.
    const found = new Map<number, typeof auditEntries.$inferSelect>();
    await this.db.transaction(
      async (tx) => {
        for (let i = 0; i < recordIds.length; i += READS_OF_CHUNK) {
          for (const row of await this.readsOfQuery(recordIds.slice(i, i + READS_OF_CHUNK), opts, tx)) found.set(row.seq, row);
        }
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    return [...found.values()]
      .sort((a, b) => a.seq - b.seq)
      .slice(0, opts.first)
      .map(toStored);
  }

  /** The query `readsOf` runs (one or more ids), for a look at its plan. */
  readsOfQuery(recordIds: readonly string[], opts: { first: number; afterSeq: number | null }, db: Tx = this.db) {
    return db
      .select()
      .from(auditEntries)
      .where(
        and(
          sql`${IN_ENTRY.recordIds} @? ${anyRecordIdPath(recordIds)}`,
          sql`${IN_ENTRY.action} in ('consultation', 'disclosure', 'combination')`,
          sql`${IN_ENTRY.outcome} = 'success'`,
          opts.afterSeq ? gt(auditEntries.seq, opts.afterSeq) : undefined,
        ),
      )
      .orderBy(asc(auditEntries.seq))
      .limit(opts.first);
  }

  /** Successful reads of this node's records by other forces, per day (UTC), requesting force, organisation kind and purpose. */
  async disclosureCounts(node: string, from: Date, to: Date) {
    const day = sql<string>`substr(${IN_ENTRY.at}, 1, 10)`;
    const force = sql<string>`coalesce(${IN_ENTRY.requestingNode}, ${IN_ENTRY.actorForce})`;
    const orgKind = sql<string>`(${e}->'actor'->>'orgKind')`;
    const rows = await this.db
      .select({ day, force, orgKind, purpose: sql<string | null>`${IN_ENTRY.purpose}`, count: sql<number>`count(*)::int` })
      .from(auditEntries)
      .where(
        and(
          sql`${IN_ENTRY.action} in ('consultation', 'disclosure')`,
          sql`${IN_ENTRY.outcome} = 'success'`,
          sql`${IN_ENTRY.requestingNode} is not null and ${IN_ENTRY.requestingNode} <> ${node}`,
          sql`${IN_ENTRY.at} >= ${atBound(from)} and ${IN_ENTRY.at} <= ${atBound(to)}`,
        ),
      )
      .groupBy(day, force, orgKind, IN_ENTRY.purpose)
      .orderBy(day, force);
    return rows;
  }

  /** Reads per weekday (0 Sunday) and hour, in Europe/London time, over a window. */
  async readsByHour(from: Date, to: Date) {
    const local = sql`((${e}->>'at')::timestamptz at time zone 'Europe/London')`;
    const weekday = sql<number>`extract(dow from ${local})::int`;
    const hour = sql<number>`extract(hour from ${local})::int`;
    return this.db
      .select({ weekday, hour, count: sql<number>`count(*)::int` })
      .from(auditEntries)
      .where(
        and(
          sql`${IN_ENTRY.action} in ('consultation', 'disclosure')`,
          // As the fishing alerts: the locator's polls would fill every hour alike.
          sql`not (${anyOf(IN_ENTRY.operation, LOCATOR_TRAFFIC, 'text')})`,
          sql`${IN_ENTRY.at} >= ${atBound(from)} and ${IN_ENTRY.at} <= ${atBound(to)}`,
        ),
      )
      .groupBy(weekday, hour);
  }

  async recordSecurityEvent(event: { at: Date; kind: string; reason: string; source: string; count: number }): Promise<void> {
    await this.db.insert(securityEvents).values(event);
  }
}
