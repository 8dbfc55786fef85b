/**
 * Integrity of the records this node stores (DESIGN.md "Keys and the manifest"): the stored
 * signature is verified before any use of the stored bytes, and a record whose bytes no longer
 * verify (changed in the database) is withheld, counted, logged at error level and shown to
 * operators. It is never signed again.
 */
import type { Logger } from '@mcx/logger';
import {
  verifyRecord,
  type JsonObject,
  type KeyResolver,
  type RecordRejection,
  type SigningKey,
  type TrustManifestHolder,
} from '@mcx/signing';

/** Why a stored record failed: its signature check, or signed bytes that disagree with the row holding them. */
export type IntegrityReason = RecordRejection | 'ENVELOPE_MISMATCH' | 'INDEX_MISMATCH';

/** The row a stored record was read from: what the signed bytes must agree with. */
export interface StoredRowKeys {
  kind: string;
  owner: string;
  id: string;
  version: number;
  /** The row's life-cycle state; when given, the signed state must agree (RETRACTED for a tombstone, else ACTIVE). */
  state?: string;
  bytes: string;
  signature: string;
  /** Index columns the query selected the row by (undefined when it did not): they must equal the signed values. */
  subjectRef?: string | null;
  reviewAt?: string | null;
}

/** One faulty stored record version, as operators see it: never its content. */
export interface IntegrityFault {
  kind: string;
  owner: string;
  id: string;
  version: number;
  reason: IntegrityReason;
  firstDetectedAt: string;
  lastDetectedAt: string;
  detections: number;
}

/**
 * The keys this node verifies its own stored records with: its current record key, and (when it
 * is federated) its other record keys that the trust manifest lists and has not revoked, such
 * as a rotated key kept verify-only. Keys are parsed once; nothing is parsed per verify.
 */
export function ownRecordKeys(forceCode: string, recordKey: SigningKey<'record'>, holder: TrustManifestHolder | null): KeyResolver {
  const manifestKeys = holder?.keyResolver('record');
  return (kid) => {
    if (kid === recordKey.kid) return { found: true, kid, job: 'record', publicKey: recordKey.publicKey };
    if (!holder || !manifestKeys || holder.ownerOfKid(kid)?.code !== forceCode) return { found: false, reason: 'UNKNOWN_KEY' };
    try {
      return manifestKeys(kid);
    } catch {
      // No usable manifest (expired past its grace period): only the current key verifies.
      return { found: false, reason: 'UNKNOWN_KEY' };
    }
  };
}

/**
 * Verifies a stored row: the signature over its exact bytes with this node's record keys, then
 * that the signed envelope is the row's (kind, owner, id, version, life-cycle state) and that the
 * index columns the row was selected by equal the signed values. Returns the record parsed from
 * the verified bytes (never from columns), or the reason it failed.
 */
export function verifyStoredRow(
  row: StoredRowKeys,
  keys: KeyResolver,
): { ok: true; record: JsonObject } | { ok: false; reason: IntegrityReason } {
  const verified = verifyRecord(row.bytes, row.signature, keys);
  if (!verified.valid) return { ok: false, reason: verified.reason };
  const p = verified.payload;
  const retracted = row.state === 'RETRACTED' || (row.state === undefined && p.state === 'RETRACTED');
  if (
    p.kind !== row.kind ||
    p.owner !== row.owner ||
    p.id !== row.id ||
    p.version !== row.version ||
    p.state !== (retracted ? 'RETRACTED' : 'ACTIVE')
  ) {
    return { ok: false, reason: 'ENVELOPE_MISMATCH' };
  }
  if (!retracted) {
    if (row.subjectRef !== undefined && (p.subjectRef ?? null) !== row.subjectRef) return { ok: false, reason: 'INDEX_MISMATCH' };
    if (row.reviewAt !== undefined && (p.reviewAt ?? null) !== row.reviewAt) return { ok: false, reason: 'INDEX_MISMATCH' };
  }
  return { ok: true, record: p };
}

/** How many faulty record versions operators see, newest first. */
const RECENT = 20;
/** A record read again and again is logged again at most this often. */
const RELOG_MS = 60_000;

/**
 * Counts and remembers integrity faults for operators (nodeStatus, /readyz) and logs each at
 * error level: kind, owner, id, version and reason, never content. Per process: every replica
 * counts what it read.
 */
export class IntegrityMonitor {
  #detections = 0;
  #lastAt: Date | null = null;
  readonly #recent = new Map<string, IntegrityFault & { loggedAt: number }>();

  constructor(private readonly opts: { logger?: Logger | null; now?: () => Date } = {}) {}

  report(row: Pick<StoredRowKeys, 'kind' | 'owner' | 'id' | 'version'>, reason: IntegrityReason): void {
    const now = this.opts.now?.() ?? new Date();
    this.#detections += 1;
    this.#lastAt = now;
    const key = `${row.kind}/${row.owner}/${row.id}@${row.version}`;
    const seen = this.#recent.get(key);
    const fault = seen
      ? { ...seen, reason, lastDetectedAt: now.toISOString(), detections: seen.detections + 1 }
      : {
          kind: row.kind,
          owner: row.owner,
          id: row.id,
          version: row.version,
          reason,
          firstDetectedAt: now.toISOString(),
          lastDetectedAt: now.toISOString(),
          detections: 1,
          loggedAt: 0,
        };
    const log = now.getTime() - fault.loggedAt >= RELOG_MS;
    if (log) fault.loggedAt = now.getTime();
    // Newest last in insertion order; the oldest goes once there are more than RECENT.
    this.#recent.delete(key);
    this.#recent.set(key, fault);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.keys().next().value!);
    if (log) {
      this.opts.logger?.error(
        { integrityFault: { kind: row.kind, owner: row.owner, id: row.id, version: row.version, reason, detections: fault.detections } },
        'INTEGRITY FAULT: a stored record fails its signature check (changed in the database); it is withheld from every reader and never signed again',
      );
    }
  }

  /** What operators see: OK or FAULT, how many reads met a faulty record, and the latest faulty versions. */
  status(): { state: 'OK' | 'FAULT'; faultsDetected: number; lastFaultAt: string | null; recent: IntegrityFault[] } {
    return {
      state: this.#detections > 0 ? 'FAULT' : 'OK',
      faultsDetected: this.#detections,
      lastFaultAt: this.#lastAt?.toISOString() ?? null,
      recent: [...this.#recent.values()].reverse().map(({ loggedAt: _logged, ...f }) => f),
    };
  }
}

// The records RecordService verified: disclose() signs views of these only.
const verifiedRecords = new WeakSet<object>();

/** Marks a record object as read from bytes whose stored signature verified. */
export function markVerified<T extends object>(stored: T): T {
  verifiedRecords.add(stored);
  return stored;
}

/** True for a record object RecordService returned after verifying its stored signature. */
export function isVerified(stored: object): boolean {
  return verifiedRecords.has(stored);
}
