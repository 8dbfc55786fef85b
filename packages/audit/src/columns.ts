import type { AuditEntry } from './entry.js';

/**
 * The plain copies of entry fields that a store keeps beside the hashed entry (in the node, the
 * columns of `audit_entries`, for SQL). They are not hashed themselves, so they must be derived
 * from the entry when written and compared with it whenever the log is checked: `verifyChain`
 * and `verifyExport` report `COLUMN_MISMATCH` at the first row whose copy differs. The node's
 * auditor filters read the hashed entry, never these copies.
 */
export interface EntryColumns {
  /** `entry.at`, the same ISO 8601 instant (UTC, milliseconds). */
  at: string;
  action: string;
  actorSubject: string;
  actorForce: string;
  requestingNode: string | null;
  purpose: string | null;
  caseRef: string | null;
  outcome: string;
  recordIds: string[];
}

/** The column copies, in a fixed order (the order `columnMismatch` checks them). */
export const ENTRY_COLUMNS = [
  'at',
  'action',
  'actorSubject',
  'actorForce',
  'requestingNode',
  'purpose',
  'caseRef',
  'outcome',
  'recordIds',
] as const satisfies readonly (keyof EntryColumns)[];

/** The column copies of a validated entry: what a store writes beside it. */
export function entryColumns(entry: AuditEntry): EntryColumns {
  return {
    at: entry.at,
    action: entry.action,
    actorSubject: entry.actor.subject,
    actorForce: entry.actor.force,
    requestingNode: entry.requestingNode,
    purpose: entry.purpose,
    caseRef: entry.caseRef,
    outcome: entry.outcome,
    recordIds: [...entry.recordIds],
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => typeof item === 'string' && item === b[i]);
  }
  return a === b;
}

/**
 * The first column whose stored copy differs from the hashed entry's value, or null when every
 * copy matches. Never throws: a malformed entry or row (from an export) is a mismatch.
 */
export function columnMismatch(entry: AuditEntry, columns: EntryColumns): keyof EntryColumns | null {
  const e = entry as Partial<AuditEntry> | null;
  const actor = (e?.actor ?? null) as Partial<AuditEntry['actor']> | null;
  const hashed: Record<keyof EntryColumns, unknown> = {
    at: e?.at,
    action: e?.action,
    actorSubject: actor?.subject,
    actorForce: actor?.force,
    requestingNode: e?.requestingNode,
    purpose: e?.purpose,
    caseRef: e?.caseRef,
    outcome: e?.outcome,
    recordIds: e?.recordIds,
  };
  const stored = (columns ?? {}) as Partial<Record<keyof EntryColumns, unknown>>;
  for (const column of ENTRY_COLUMNS) {
    if (hashed[column] === undefined || !sameValue(stored[column], hashed[column])) return column;
  }
  return null;
}
