import {
  columnMismatch,
  entryHash,
  GENESIS_HASH,
  makeCheckpoint,
  parseAuditEntry,
  verifyContinuation,
  type AuditAction,
  type AuditEntryInput,
  type AuditOutcome,
  type ChainHead,
  type ChainVerification,
  type StoredEntry,
} from '@mcx/audit';
import type { Viewer } from '@mcx/auth';
import { McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';
import { CheckpointErrorCode, toPublicKey, verifyCheckpoint, type SigningKey, type VerifyKey } from '@mcx/signing';

import { NodeErrorCode } from '../../errors.js';
import { exportChunks, exportWhole, receiptChunks } from './audit-export.js';
import type { AuditFilter, AuditStore, Tx } from './audit-store.js';
import { AuditViews } from './audit-views.js';
import { changedWitness, verifyOwnChain, type ChainBreak } from './chain-witnesses.js';
import { fishingAlerts, type FishingOptions } from './fishing.js';
import { GroupCommit } from './group-commit.js';

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
  /** Keys this node's checkpoints were signed with before a rotation: the integrity check accepts their checkpoints. */
  retiredAuditKeys?: readonly VerifyKey<'audit-checkpoint'>[];
  /** True for a kid the trust manifest lists as revoked: a retired key revoked since vouches for nothing. */
  isRevokedKey?: (kid: string) => boolean;
  logger: Logger;
  now?: () => Date;
}

/** Another node's disclosure receipt for one of this node's entries (`ourSeq` in ReceiptRows, stored in a group's write). */
type PeerReceiptInput = { peer: string; peerEntryId: string; receiptJws: string };
type ReceiptRows = (PeerReceiptInput & { ourSeq: number })[];

/** How long the latest checkpoint read for a receipt is reused (a checkpoint this process signs replaces it at once). */
const CHECKPOINT_REUSE_MS = 1000;
/**
 * Rows read per page while checking the chain from the last checkpoint to the head. Each page is hashed in one go,
 * holding the event loop: at about 0.1 ms a row, 500 rows is some 50 ms, where 5,000 held every request for half a second.
 */
const VERIFY_PAGE = 500;
/** How many of the newest checkpoints are looked at for one signed with the node's current key. */
const ANCHOR_SEARCH = 100;
/** At most this many remembered appends (the oldest are dropped first). */
const MAX_WITNESSES = 10_000;

/** `verifyChain`'s result, with the node's own findings (its remembered fault) folded in. */
export type IntegrityReport = Omit<ChainVerification, 'firstBad'> & { firstBad: ChainBreak | null };

/**
 * A break in the audit chain, found by the check before a checkpoint or by an integrity check.
 * Once found it is kept for the life of the process: the node signs no checkpoint until an
 * operator has investigated, restored the log and restarted it.
 */
export interface AuditFault {
  /** The first bad seq. */
  seq: number;
  /** A `verifyChain` reason, or `APPENDED_ENTRY_CHANGED` / `CHECKPOINT_ROW_MISMATCH` / `CHECKPOINT_MISSING`. */
  reason: string;
  /** For `COLUMN_MISMATCH`: the stored column that differs from the hashed entry (never its value). */
  column?: string;
  detectedAt: string;
}

/**
 * The audit trail: entries built from events, appended to the hash chain with group commit
 * (concurrent requests share one durable transaction), signed checkpoints, the integrity
 * check, the export and fishing alerts.
 */
export class AuditService {
  private readonly now: () => Date;
  /** Appends and receipts of concurrent requests, written in one transaction per group. */
  private readonly writes = new GroupCommit((items: (AuditEntryInput | ReceiptRows)[]) => this.write(items));
  private latest: { jws: Promise<string | null>; at: number } | null = null;
  private brokenAt: AuditFault | null = null;
  /**
   * Witnesses: the last entry of each group this process appended and saw commit (seq to hash),
   * since the chain was last verified, and the head it verified. Rewriting an entry and recomputing
   * every later hash changes the hash of each witness at or after it, even where no checkpoint
   * covers it yet; an append made after the rewrite is no witness, so all are kept until checked.
   */
  private witnesses = new Map<number, string>();
  /** The last checkpoint this process signed. */
  private signed: ChainHead | null = null;

  /** What the auditors' pages read besides the entries. */
  readonly views: AuditViews;

  constructor(private readonly deps: AuditServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.views = new AuditViews(deps);
  }

  /** Builds a validated entry from an event. */
  entry(e: AuditEvent): AuditEntryInput {
    const actor = e.viewer
      ? { subject: e.viewer.subject, issuer: e.viewer.issuer, force: e.viewer.force, orgKind: e.viewer.orgKind, roles: [...e.viewer.roles] }
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
   * Appends one entry; resolves once it has committed durably (concurrent appends share one write).
   * Rejects with AUDIT_UNAVAILABLE if it cannot be written: the caller must then release nothing.
   */
  async record(e: AuditEvent): Promise<StoredEntry> {
    // async: an entry that cannot be built rejects, like one that cannot be written, never throws.
    return (await this.writes.submit(this.entry(e))) as StoredEntry;
  }

  /** Appends inside the caller's transaction, so a write and its entry commit together. */
  async recordInTx(tx: Tx, e: AuditEvent): Promise<StoredEntry> {
    const [stored] = await this.deps.store.appendInTx(tx, [this.entry(e)]);
    return stored!;
  }

  /** One group's entries (chained in order) and receipts, in one durable transaction; AUDIT_UNAVAILABLE for all if it fails. */
  private async write(items: (AuditEntryInput | ReceiptRows)[]): Promise<(StoredEntry | null)[]> {
    const entries = items.filter((i): i is AuditEntryInput => !Array.isArray(i));
    try {
      const stored = await this.deps.store.appendWithReceipts(entries, items.filter(Array.isArray).flat());
      const last = stored.at(-1);
      if (last) this.witness(last);
      let next = 0;
      return items.map((i) => (Array.isArray(i) ? null : stored[next++]!));
    } catch (err) {
      this.deps.logger.error({ err }, 'audit append failed: the requests it covers are refused');
      throw new McxError(NodeErrorCode.AUDIT_UNAVAILABLE, 'the audit entry could not be written; nothing was released', { cause: err });
    }
  }

  /** The latest signed checkpoint (compact JWS), or null before the first. */
  latestCheckpoint(): Promise<string | null> {
    // Read at most once a second (a receipt quotes it as a witness; one from another replica shows within the second).
    const now = performance.now();
    if (this.latest === null || now - this.latest.at >= CHECKPOINT_REUSE_MS) {
      const jws = this.deps.store.latestCheckpointJws();
      this.latest = { jws, at: now };
      jws.catch(() => (this.latest = null));
    }
    return this.latest.jws;
  }

  /** Stores the disclosure receipts members gave for one of this node's entries (`ourSeq`), committed with a group's appends. */
  async saveReceipts(receipts: readonly PeerReceiptInput[], ourSeq: number): Promise<void> {
    if (receipts.length > 0) await this.writes.submit(receipts.map((r) => ({ ...r, ourSeq })));
  }

  /** An entry and the members' receipts for `ourSeq` in one durable write (a read's combination, its consultation's receipts). */
  async recordWithReceipts(e: AuditEvent, receipts: readonly PeerReceiptInput[], ourSeq: number): Promise<StoredEntry> {
    const rows = receipts.map((r) => ({ ...r, ourSeq }));
    let entry: AuditEntryInput;
    try {
      entry = this.entry(e);
    } catch (err) {
      // The members logged their disclosures: their receipts are kept, whatever became of the entry.
      await this.saveReceipts(receipts, ourSeq);
      throw err;
    }
    return (await this.writes.submitAll(rows.length > 0 ? [rows, entry] : [entry])).at(-1) as StoredEntry;
  }

  private witness(head: ChainHead): void {
    this.witnesses.set(head.seq, head.hash);
    if (this.witnesses.size > MAX_WITNESSES) this.witnesses.delete(this.witnesses.keys().next().value!);
  }

  /** The chain fault this node has found, or null. */
  fault(): AuditFault | null {
    return this.brokenAt;
  }

  /** What /readyz says of the audit chain: `ok`, or `chain broken at seq N (REASON)`. */
  readiness(): string {
    const f = this.brokenAt;
    return f === null ? 'ok' : `chain broken at seq ${f.seq} (${f.reason}${f.column ? `: ${f.column}` : ''})`;
  }

  /** Remembers a break (the lowest seq found), and says so at error level: seq and reason only, never an entry. */
  private raise(bad: ChainBreak, found: string): AuditFault {
    if (this.brokenAt === null || bad.seq < this.brokenAt.seq) {
      this.brokenAt = {
        seq: bad.seq,
        reason: bad.reason,
        ...(bad.column ? { column: bad.column } : {}),
        detectedAt: this.now().toISOString(),
      };
    }
    const f = this.brokenAt;
    this.deps.logger.error(
      { auditFault: { firstBadSeq: f.seq, reason: f.reason, ...(f.column ? { column: f.column } : {}), found } },
      `audit chain broken at seq ${f.seq} (${f.reason}): no audit checkpoint will be signed; investigate, restore the log and restart the node`,
    );
    return f;
  }

  /**
   * Checks the chain from the last checkpoint signed with this node's key (its signature and node
   * verified, its row's size and head hash equal to what it signs) to the head: the checkpoint's
   * head is still the hash at its seq, and every later row links, hashes and has column copies
   * equal to its entry. Also checks that the entries this process appended (its witnesses) still
   * have the hashes they were committed with, and that the last checkpoint it signed is still
   * there. Returns the head reached, the size already checkpointed, and the first bad seq, if any.
   */
  private async verifySinceCheckpoint(): Promise<{ head: ChainHead; checkpointed: number; bad: ChainBreak | null }> {
    const { store, node } = this.deps;
    const key = toPublicKey(this.deps.auditKey);
    // Taken before anything is read: they name entries that have committed and a checkpoint that
    // was saved, so what is read next must hold them.
    const witnesses = new Map(this.witnesses);
    const signed = this.signed;
    let anchor: ChainHead | null = null;
    const fail = (seq: number, reason: string, column?: string) => ({
      head: anchor ?? { seq: 0, hash: GENESIS_HASH },
      checkpointed: anchor?.seq ?? 0,
      bad: { seq, reason, ...(column ? { column } : {}) },
    });

    for (const row of await store.recentCheckpoints(ANCHOR_SEARCH)) {
      let checkpoint;
      try {
        checkpoint = verifyCheckpoint(row.jws, key);
      } catch (err) {
        // Signed by another key (a retired one, after a rotation): never trusted as the start, but not proof of tampering.
        if (err instanceof McxError && err.code === CheckpointErrorCode.CHECKPOINT_UNKNOWN_KEY) continue;
        return fail(row.size, err instanceof McxError ? err.code : CheckpointErrorCode.CHECKPOINT_MALFORMED);
      }
      if (checkpoint.node !== node) return fail(row.size, 'CHECKPOINT_WRONG_NODE');
      if (checkpoint.size !== row.size || checkpoint.headHash !== row.headHash) return fail(row.size, 'CHECKPOINT_ROW_MISMATCH');
      anchor = { seq: checkpoint.size, hash: checkpoint.headHash };
      break;
    }
    if (signed !== null && (anchor === null || anchor.seq < signed.seq)) return fail(signed.seq, 'CHECKPOINT_MISSING');

    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    if (anchor !== null) {
      const row = await store.entryAt(anchor.seq);
      if (row === null) return fail(anchor.seq, 'TRUNCATED');
      if (row.hash !== anchor.hash) return fail(anchor.seq, 'CHECKPOINT_MISMATCH');
      if (entryHash(row.prevHash, row.seq, row.entry) !== row.hash) return fail(anchor.seq, 'ENTRY_HASH_MISMATCH');
      const column = row.columns ? columnMismatch(row.entry, row.columns) : null;
      if (column !== null) return fail(anchor.seq, 'COLUMN_MISMATCH', column);
      head = anchor;
    }
    for (;;) {
      const rows = await store.range(head.seq + 1, VERIFY_PAGE);
      const walked = verifyContinuation(head, rows);
      if (walked.firstBad !== null) return { head: walked.head, checkpointed: anchor?.seq ?? 0, bad: walked.firstBad };
      head = walked.head;
      if (rows.length < VERIFY_PAGE) break;
    }

    if (witnesses.size > 0) {
      const changed = changedWitness(witnesses, await store.hashesAt([...witnesses.keys()]));
      if (changed !== null) return fail(changed.seq, changed.reason);
    }
    // Verified: the witnesses up to the head are proven by it (or by the checkpoint signed next).
    for (const seq of witnesses.keys()) if (seq <= head.seq) this.witnesses.delete(seq);
    if (head.seq > 0) this.witness(head);
    return { head, checkpointed: anchor?.seq ?? 0, bad: null };
  }

  /**
   * Signs a checkpoint of the head if the chain grew since the last one, only after checking the
   * chain since that checkpoint (see `verifySinceCheckpoint`). On a break, or once one has been
   * found, it signs nothing, logs the fault at error level and throws `AUDIT_CHAIN_BROKEN`.
   */
  async checkpoint(): Promise<{ size: number; headHash: string } | null> {
    const { head, checkpointed, bad } = await this.verifySinceCheckpoint();
    if (bad !== null) this.raise(bad, 'checkpoint');
    const f = this.brokenAt;
    if (f !== null) {
      if (bad === null)
        this.deps.logger.error(
          { auditFault: { firstBadSeq: f.seq, reason: f.reason } },
          `audit checkpoint refused: the chain was found broken at seq ${f.seq} (${f.reason})`,
        );
      throw new McxError(
        NodeErrorCode.AUDIT_CHAIN_BROKEN,
        `the audit chain is broken at seq ${f.seq} (${f.reason}); no checkpoint was signed`,
      );
    }
    if (head.seq <= checkpointed) return null;
    // Exactly the head that was verified is signed, even if the chain has grown since.
    const jws = makeCheckpoint(this.deps.node, head, this.now().toISOString(), this.deps.auditKey);
    // Remembered as signed only if stored: a checkpoint of that size already there (another replica's,
    // or the last one signed with the key a rotation retired) stays the only one of that size.
    const saved = await this.deps.store.saveCheckpoint(head.seq, head.hash, jws);
    if (saved && (this.signed === null || head.seq > this.signed.seq)) {
      this.signed = head;
      this.latest = { jws: Promise.resolve(jws), at: performance.now() };
    }
    return { size: head.seq, headHash: head.hash };
  }

  /**
   * Checks the whole chain against the signed checkpoints, each row's column copies against its
   * entry, and the entries this process appended (its witnesses). A break is remembered (as by
   * `checkpoint`), and a break remembered earlier is reported even if the rows no longer show it.
   */
  async integrity(): Promise<IntegrityReport> {
    // Taken before the rows are read: they name entries that have committed, so the rows must hold them.
    const witnesses = new Map(this.witnesses);
    // Checkpoints before rows: the log only grows, so the rows read next hold what each one signs.
    const checkpoints = await this.deps.store.checkpoints();
    // A page at a time: a long log is never held in memory at once, and the node answers others between pages.
    const result = await verifyOwnChain(this.deps.store.pages(VERIFY_PAGE), checkpoints, this.deps);
    const bads: ChainBreak[] = result.firstBad ? [result.firstBad] : [];
    const changed = changedWitness(witnesses, await this.deps.store.hashesAt([...witnesses.keys()]));
    if (changed !== null) bads.push(changed);
    const first = bads.sort((a, b) => a.seq - b.seq)[0];
    if (first !== undefined) this.raise(first, 'integrity');
    const f = this.brokenAt;
    if (f === null || (result.firstBad !== null && result.firstBad.seq <= f.seq)) return result;
    const verifiedThrough = Math.min(result.verifiedThrough, f.seq - 1);
    return {
      ...result,
      ok: false,
      status: 'failed',
      verifiedThrough,
      unverifiedAfter: Math.max(0, result.entries - verifiedThrough),
      firstBad: { seq: f.seq, reason: f.reason, ...(f.column ? { column: f.column } : {}) },
    };
  }

  /** The chain and its checkpoints as JSON Lines, for `mcx audit verify`, a chunk at a time (GET /audit/export streams it). */
  exportChunks(): AsyncGenerator<string> {
    return exportChunks(this.deps.store, this.exportHeader());
  }

  /** The receipts `from` gave this node, as a receipts file this node seals, a chunk at a time (GET /audit/receipts streams it). */
  receiptChunks(from: string): AsyncGenerator<string> {
    const header = { holder: this.deps.node, from, exportedAt: this.now().toISOString() };
    return receiptChunks(this.deps.store.receipts, header, this.deps.auditKey);
  }

  /** The same export as one string (the `auditExport` field): EXPORT_TOO_LONG past EXPORT_FIELD_MAX_ENTRIES entries. */
  exportJsonl(): Promise<string> {
    return exportWhole(this.deps.store, this.exportHeader());
  }

  private exportHeader() {
    return { node: this.deps.node, exportedAt: this.now().toISOString(), publicKey: toPublicKey(this.deps.auditKey) };
  }

  list(filter: AuditFilter, opts: { first: number; afterSeq?: number | null }) {
    return this.deps.store.list(filter, opts);
  }

  /** Fishing alerts over the reads in a window (fishing.ts). */
  alerts(opts: FishingOptions) {
    return fishingAlerts(this.deps.store, this.deps.node, opts);
  }

  /** Waits for queued appends (shutdown). */
  drain(): Promise<void> {
    return this.writes.drain();
  }
}
