// Types only, so that record-queries.ts needs nothing from record-store.ts (which builds it) and no import circle forms.
import type { Tx } from '../audit/audit-store.js';

/** Runs inside a write's transaction with the keys (owner/id) it stored: the audit entry commits with the write. */
export type InTx = (tx: Tx, stored: string[]) => Promise<unknown>;

/** The indexed columns of a record's head row; everything else lives in the signed bytes. */
export interface RecordIndex {
  ownerReference: string;
  subjectRef?: string | null;
  episodeStatus?: string | null;
  reportedAt?: Date | null;
  lat?: number | null;
  lon?: number | null;
  postcode?: string | null;
  uprn?: string | null;
  reviewAt?: string | null;
  associateRefs?: string[] | null;
}

/** One version to store. `bytes` are the exact canonical JSON that is (or will be) signed. */
export interface VersionWrite {
  kind: string;
  owner: string;
  id: string;
  version: number;
  state: string;
  contentHash: string;
  /** Builds the bytes given the publication time (the node stamps it once, on first store). */
  render(publishedAt: Date): { bytes: string; signature: string; kid: string };
  index: RecordIndex;
}

export type WriteOutcome =
  | { status: 'stored' | 'unchanged'; bytes: string; signature: string; state: string }
  | { status: 'CONFLICT' | 'STALE_VERSION' | 'KIND_MISMATCH' | 'RETRACTED'; currentVersion: number }
  | { status: 'NOT_FOUND' }
  | { status: 'INTEGRITY_FAULT'; currentVersion: number };

/**
 * Checks a version already stored before its bytes are handed back (an idempotent retry): false
 * when its stored signature fails, and the batch is then refused.
 */
export type StoredVersionCheck = (stored: {
  kind: string;
  owner: string;
  id: string;
  version: number;
  bytes: string;
  signature: string;
}) => boolean;

/** A record's current version as stored. */
export interface CurrentRecord {
  bytes: string;
  signature: string;
  state: string;
  version: number;
  restrictionReason?: string | null;
}

/**
 * A current version with the row that holds it: what its signed bytes must agree with before
 * they are used (see record-integrity.ts).
 */
export interface StoredRow extends CurrentRecord {
  kind: string;
  owner: string;
  id: string;
  subjectRef: string | null;
  reviewAt: string | null;
}
