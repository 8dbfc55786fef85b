import { createHash } from 'node:crypto';

import { McxError } from '@mcx/errors';
import { canonicalJson } from '@mcx/signing';

import { AuditErrorCode } from './audit-errors.js';
import type { EntryColumns } from './columns.js';
import { parseAuditEntry, type AuditEntry, type AuditEntryInput } from './entry.js';

/**
 * The `prevHash` of entry 1: 64 zeros, the same for every node. The chain is bound to its node by
 * the checkpoints, which name the node and are signed with its audit-checkpoint key.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** A lower-case hex SHA-256, the form of every `hash` and `prevHash`. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** The head of a chain: the last entry's `seq` and `hash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * An entry as stored: its place in the chain, the hash it links from, its own hash, and the entry.
 * `columns`, when a store keeps plain copies of entry fields beside it (the node's table columns),
 * holds them as read back, so verification can compare them with the hashed entry.
 */
export interface StoredEntry {
  seq: number;
  prevHash: string;
  hash: string;
  entry: AuditEntry;
  columns?: EntryColumns;
}

/** `sha256hex(prevHash + '\n' + canonicalJson({ seq, ...entry }))`: the hash of one entry in the chain. */
export function entryHash(prevHash: string, seq: number, entry: AuditEntry): string {
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson({ ...entry, seq })}`)
    .digest('hex');
}

function checkedHead(prev: ChainHead | null): ChainHead {
  if (prev === null) return { seq: 0, hash: GENESIS_HASH };
  const ok = Number.isSafeInteger(prev.seq) && prev.seq >= 0 && typeof prev.hash === 'string' && HASH_PATTERN.test(prev.hash);
  if (!ok || (prev.seq === 0 && prev.hash !== GENESIS_HASH)) {
    throw new McxError(
      AuditErrorCode.CHAIN_HEAD_INVALID,
      'the previous head must be { seq >= 0, hash: 64 lower-case hex }, or null for an empty log',
    );
  }
  return prev;
}

/**
 * Validates `entry` and chains it after `prev` (null for the first entry of the log).
 *
 * @example
 * const stored = chainEntry(await store.head(), entry); // inside the transaction that holds the advisory lock
 */
export function chainEntry(prev: ChainHead | null, entry: AuditEntryInput): StoredEntry {
  const head = checkedHead(prev);
  const parsed = parseAuditEntry(entry);
  const seq = head.seq + 1;
  return { seq, prevHash: head.hash, hash: entryHash(head.hash, seq, parsed), entry: parsed };
}

/**
 * Chains a batch after `prev`, in order. All or nothing: one invalid entry throws before any is
 * returned, so a batch append inside one transaction never half-succeeds.
 */
export function chainEntries(prev: ChainHead | null, entries: readonly AuditEntryInput[]): StoredEntry[] {
  let head = checkedHead(prev);
  const out: StoredEntry[] = [];
  for (const entry of entries) {
    const stored = chainEntry(head, entry);
    out.push(stored);
    head = stored;
  }
  return out;
}
