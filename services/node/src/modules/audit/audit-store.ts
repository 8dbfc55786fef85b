import { and, asc, desc, eq, gt, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { chainEntries, type AuditEntry, type AuditEntryInput, type ChainHead, type StoredEntry } from '@mcx/audit';
import { schema, type Database } from '@mcx/db';

const { auditEntries, auditCheckpoints, auditReceipts, securityEvents } = schema;

/** A drizzle transaction (or the database itself) on which an append can run. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0] | Database;

// One advisory lock serialises appends across every replica writing to this database.
const AUDIT_CHAIN_LOCK = 7_364_812;

export interface AuditFilter {
  actorSubject?: string | null;
  actorForce?: string | null;
  purpose?: string | null;
  caseRef?: string | null;
  recordId?: string | null;
  requestingNode?: string | null;
  action?: string | null;
  actions?: string[] | null;
  outcome?: string | null;
  from?: Date | null;
  to?: Date | null;
}

function toStored(row: typeof auditEntries.$inferSelect): StoredEntry {
  return { seq: row.seq, prevHash: row.prevHash, hash: row.hash, entry: row.entry as AuditEntry };
}

/** SQL for the audit chain: serialised appends, filtered reads, checkpoints and receipts. */
export class AuditStore {
  constructor(private readonly db: Database) {}

  /**
   * Appends entries to the chain inside `tx` (the caller's transaction, so a write and its
   * entry commit together), under the chain lock. Returns the stored entries.
   */
  async appendInTx(tx: Tx, entries: readonly AuditEntryInput[]): Promise<StoredEntry[]> {
    if (entries.length === 0) return [];
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) /* auditChainLock */`);
    const [head] = await tx.select({ seq: auditEntries.seq, hash: auditEntries.hash }).from(auditEntries).orderBy(desc(auditEntries.seq)).limit(1);
    const stored = chainEntries(head ?? null, entries);
    await tx.insert(auditEntries).values(
      stored.map((s) => ({
        seq: s.seq,
        prevHash: s.prevHash,
        hash: s.hash,
        at: new Date(s.entry.at),
        action: s.entry.action,
        actorSubject: s.entry.actor.subject,
        actorForce: s.entry.actor.force,
        requestingNode: s.entry.requestingNode,
        purpose: s.entry.purpose,
        caseRef: s.entry.caseRef,
        outcome: s.entry.outcome,
        recordIds: s.entry.recordIds,
        entry: s.entry,
      })),
    );
    return stored;
  }

  /** Appends in a transaction of its own; commits (durably) before it resolves. */
  append(entries: readonly AuditEntryInput[]): Promise<StoredEntry[]> {
    return this.db.transaction((tx) => this.appendInTx(tx, entries));
  }

  async head(): Promise<ChainHead | null> {
    const [head] = await this.db.select({ seq: auditEntries.seq, hash: auditEntries.hash }).from(auditEntries).orderBy(desc(auditEntries.seq)).limit(1);
    return head ?? null;
  }

  /** Entries matching a filter, oldest first from `afterSeq`, at most `first`. */
  async list(filter: AuditFilter, opts: { first: number; afterSeq?: number | null }): Promise<StoredEntry[]> {
    const where: (SQL | undefined)[] = [
      filter.actorSubject ? eq(auditEntries.actorSubject, filter.actorSubject) : undefined,
      filter.actorForce ? eq(auditEntries.actorForce, filter.actorForce) : undefined,
      filter.purpose ? eq(auditEntries.purpose, filter.purpose) : undefined,
      filter.caseRef ? eq(auditEntries.caseRef, filter.caseRef) : undefined,
      filter.recordId ? sql`${auditEntries.recordIds} @> array[${filter.recordId}]::text[]` : undefined,
      filter.requestingNode ? eq(auditEntries.requestingNode, filter.requestingNode) : undefined,
      filter.action ? eq(auditEntries.action, filter.action) : undefined,
      filter.actions?.length ? inArray(auditEntries.action, filter.actions) : undefined,
      filter.outcome ? eq(auditEntries.outcome, filter.outcome) : undefined,
      filter.from ? gte(auditEntries.at, filter.from) : undefined,
      filter.to ? lte(auditEntries.at, filter.to) : undefined,
      opts.afterSeq ? gt(auditEntries.seq, opts.afterSeq) : undefined,
    ];
    const rows = await this.db.select().from(auditEntries).where(and(...where)).orderBy(asc(auditEntries.seq)).limit(opts.first);
    return rows.map(toStored);
  }

  /** The whole chain in order, for the integrity check and the export. */
  async all(): Promise<StoredEntry[]> {
    return (await this.db.select().from(auditEntries).orderBy(asc(auditEntries.seq))).map(toStored);
  }

  async checkpoints(): Promise<string[]> {
    return (await this.db.select({ jws: auditCheckpoints.jws }).from(auditCheckpoints).orderBy(asc(auditCheckpoints.size))).map((r) => r.jws);
  }

  async lastCheckpointSize(): Promise<number> {
    const [row] = await this.db.select({ size: auditCheckpoints.size }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.size)).limit(1);
    return row?.size ?? 0;
  }

  async saveCheckpoint(size: number, headHash: string, jws: string): Promise<void> {
    await this.db.insert(auditCheckpoints).values({ size, headHash, jws }).onConflictDoNothing();
  }

  /** Stores other nodes' signed disclosure receipts (each holds their entry id and latest checkpoint). */
  async saveReceipts(receipts: readonly { peer: string; peerEntryId: string; receiptJws: string; ourSeq: number | null }[]): Promise<void> {
    if (receipts.length === 0) return;
    await this.db.insert(auditReceipts).values([...receipts]);
  }

  /** The receipts held for one of this node's entries, or all. */
  async receipts(ourSeq?: number): Promise<{ peer: string; peerEntryId: string; receiptJws: string; ourSeq: number | null }[]> {
    const rows = await this.db.select().from(auditReceipts).where(ourSeq === undefined ? undefined : eq(auditReceipts.ourSeq, ourSeq)).orderBy(asc(auditReceipts.id));
    return rows.map(({ peer, peerEntryId, receiptJws, ourSeq: seq }) => ({ peer, peerEntryId, receiptJws, ourSeq: seq }));
  }

  /** The latest signed checkpoint's JWS, or null. */
  async latestCheckpointJws(): Promise<string | null> {
    const [row] = await this.db.select({ jws: auditCheckpoints.jws }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.size)).limit(1);
    return row?.jws ?? null;
  }

  async recordSecurityEvent(event: { at: Date; kind: string; reason: string; source: string; count: number }): Promise<void> {
    await this.db.insert(securityEvents).values(event);
  }
}
