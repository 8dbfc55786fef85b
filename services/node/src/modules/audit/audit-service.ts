import { McxError } from '@mcx/errors';
import {
  caseRefProblems,
  makeCheckpoint,
  parseAuditEntry,
  unusualHours,
  unusualVolume,
  verifyChain,
  writeExport,
  type AuditAction,
  type AuditEntryInput,
  type AuditOutcome,
  type StoredEntry,
} from '@mcx/audit';
import type { Viewer } from '@mcx/auth';
import type { Logger } from '@mcx/logger';
import { toPublicKey, type SigningKey } from '@mcx/signing';
import type { AuditFilter, AuditStore, Tx } from './audit-store.js';

/** What a caller knows when it audits an action; the service adds the time. */
export interface AuditEvent {
  action: AuditAction;
  viewer: Viewer | null;
  requestingNode?: string | null;
  purpose?: string | null;
  caseRef?: string | null;
  operation: string;
  /** The record ids asked for (the query). */
  queryIds?: string[];
  /** The record ids touched (returned, written). */
  recordIds: string[];
  /** A keyed digest of the linkage keys a query used (never the keys). */
  linkageDigest?: string | null;
  outcome: AuditOutcome;
  reason?: string | null;
  /** The other node's entry this one answers or is answered by (`MEMBER:seq`), for federated reads. */
  peerEntryId?: string | null;
}

export interface AuditServiceDeps {
  store: AuditStore;
  node: string;
  auditKey: SigningKey<'audit-checkpoint'>;
  logger: Logger;
  now?: () => Date;
}

interface Pending {
  entry: AuditEntryInput;
  resolve(stored: StoredEntry): void;
  reject(err: unknown): void;
}

const MAX_GROUP = 500;

/**
 * The audit trail: entries built from events, appended to the hash chain with group commit
 * (concurrent requests share one durable transaction), signed checkpoints, the integrity
 * check, the export and fishing alerts.
 */
export class AuditService {
  private readonly now: () => Date;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly deps: AuditServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Builds a validated entry from an event. */
  entry(e: AuditEvent): AuditEntryInput {
    const actor = e.viewer
      ? { subject: e.viewer.subject, force: e.viewer.force, orgKind: e.viewer.orgKind, roles: [...e.viewer.roles] }
      : { subject: 'anonymous', force: this.deps.node, orgKind: 'unknown', roles: [] };
    return parseAuditEntry({
      at: this.now().toISOString(),
      action: e.action,
      actor,
      requestingNode: e.requestingNode ?? null,
      purpose: e.purpose ?? null,
      caseRef: e.caseRef ?? null,
      query: { operation: e.operation, recordIds: e.queryIds ?? [], linkageDigest: e.linkageDigest ?? null },
      recordIds: e.recordIds,
      outcome: e.outcome,
      reason: e.reason ?? null,
      peerEntryId: e.peerEntryId ?? null,
    });
  }

  /**
   * Appends one entry and resolves once it has committed durably. Concurrent appends are
   * grouped into one transaction. Rejects with AUDIT_UNAVAILABLE if it cannot be written:
   * the caller must then release nothing.
   */
  record(e: AuditEvent): Promise<StoredEntry> {
    const entry = this.entry(e);
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.kick();
    });
  }

  /** Appends inside the caller's transaction, so a write and its entry commit together. */
  async recordInTx(tx: Tx, e: AuditEvent): Promise<StoredEntry> {
    const [stored] = await this.deps.store.appendInTx(tx, [this.entry(e)]);
    return stored!;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    try {
      const stored = await this.deps.store.append(group.map((p) => p.entry));
      group.forEach((p, i) => p.resolve(stored[i]!));
    } catch (err) {
      this.deps.logger.error({ err }, 'audit append failed: the requests it covers are refused');
      group.forEach((p) => p.reject(new McxError('AUDIT_UNAVAILABLE', 'the audit entry could not be written; nothing was released', { cause: err })));
    }
  }

  /** The latest signed checkpoint (compact JWS), or null before the first. */
  latestCheckpoint(): Promise<string | null> {
    return this.deps.store.latestCheckpointJws();
  }

  /** Stores the disclosure receipts members gave for one of this node's entries (`ourSeq`). */
  saveReceipts(receipts: readonly { peer: string; peerEntryId: string; receiptJws: string }[], ourSeq: number): Promise<void> {
    return this.deps.store.saveReceipts(receipts.map((r) => ({ ...r, ourSeq })));
  }

  /** Signs a checkpoint of the current head if the chain grew since the last one. */
  async checkpoint(): Promise<{ size: number; headHash: string } | null> {
    const head = await this.deps.store.head();
    if (!head || head.seq <= (await this.deps.store.lastCheckpointSize())) return null;
    const jws = makeCheckpoint(this.deps.node, head, this.now().toISOString(), this.deps.auditKey);
    await this.deps.store.saveCheckpoint(head.seq, head.hash, jws);
    return { size: head.seq, headHash: head.hash };
  }

  /** Checks the whole chain against the signed checkpoints. */
  async integrity() {
    const [rows, checkpoints] = await Promise.all([this.deps.store.all(), this.deps.store.checkpoints()]);
    return verifyChain(rows, checkpoints, toPublicKey(this.deps.auditKey), { node: this.deps.node });
  }

  /** The chain and its checkpoints as JSON Lines, for `mcx audit verify`. */
  async exportJsonl(): Promise<string> {
    const [entries, checkpoints] = await Promise.all([this.deps.store.all(), this.deps.store.checkpoints()]);
    return writeExport({ node: this.deps.node, exportedAt: this.now().toISOString(), publicKey: toPublicKey(this.deps.auditKey), entries, checkpoints });
  }

  list(filter: AuditFilter, opts: { first: number; afterSeq?: number | null }) {
    return this.deps.store.list(filter, opts);
  }

  /** Fishing alerts over consultations in a window. */
  async alerts(opts: { from: Date; to: Date; perActorThreshold: number; caseRefPattern: RegExp }) {
    const entries = await this.deps.store.list({ from: opts.from, to: opts.to, actions: ['consultation', 'disclosure'] }, { first: 100_000 });
    return [
      ...unusualVolume(entries, { perActorThreshold: opts.perActorThreshold }),
      ...unusualHours(entries, { startHour: 7, endHour: 19, timeZone: 'Europe/London' }),
      ...caseRefProblems(entries, { caseRefPattern: opts.caseRefPattern }),
    ];
  }

  /** Waits for queued appends (shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }
}
