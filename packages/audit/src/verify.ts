import { McxError } from '@mcx/errors';
import { verifyCheckpoint, type KeyResolver, type VerifyKey } from '@mcx/signing';
import { entryHash, GENESIS_HASH, type StoredEntry } from './chain.js';

/** Why verification failed. `CHECKPOINT_*` also carries every refusal code of `verifyCheckpoint`. */
export type VerifyFailure =
  | 'SEQ_GAP'
  | 'SEQ_ORDER'
  | 'SEQ_DUPLICATE'
  | 'CHAIN_BROKEN'
  | 'ENTRY_HASH_MISMATCH'
  | 'ENTRY_MALFORMED'
  | 'TRUNCATED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_WRONG_NODE'
  | 'CHECKPOINT_BAD_SIGNATURE'
  | `CHECKPOINT_${string}`;

/** The first thing found wrong: the lowest seq, and for a checkpoint its index in the list given. */
export interface FirstBad {
  seq: number;
  reason: VerifyFailure;
  checkpoint?: number;
}

/** The result of verifying a log against its signed checkpoints. */
export interface ChainVerification {
  /** True only when nothing is wrong AND every entry is covered by a valid checkpoint. */
  ok: boolean;
  status: 'ok' | 'unverified' | 'failed';
  /** The seq covered by the last valid checkpoint below any failure (0 if none). */
  verifiedThrough: number;
  /** Entries after `verifiedThrough`: unverified, never ok. */
  unverifiedAfter: number;
  firstBad: FirstBad | null;
  /** Checkpoints whose signature verified and whose head matched the chain. */
  checkpointsChecked: number;
  /** The number of rows given. */
  entries: number;
  /** How far seqs, links and hashes are consistent. Not proof by itself: a rewritten tail is consistent too. */
  chainIntactThrough: number;
}

/** Options for `verifyChain`. */
export interface VerifyChainOptions {
  /** When set, a checkpoint that names another node fails with `CHECKPOINT_WRONG_NODE`. */
  node?: string;
}

function isRow(row: unknown): row is StoredEntry {
  const r = row as Partial<Record<keyof StoredEntry, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isSafeInteger(r.seq) &&
    typeof r.prevHash === 'string' &&
    typeof r.hash === 'string' &&
    typeof r.entry === 'object' &&
    r.entry !== null &&
    !Array.isArray(r.entry)
  );
}

/** The seq a checkpoint claims, read without trusting it, only to say where a bad one points. */
function claimedSize(jws: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { size?: unknown };
    return Number.isSafeInteger(payload.size) && (payload.size as number) >= 0 ? (payload.size as number) : 0;
  } catch {
    return 0;
  }
}

interface ChainWalk {
  /** `heads[n]` is the hash of entry n (`heads[0]` the genesis), for the intact prefix. */
  heads: string[];
  bad: FirstBad | null;
}

function walkChain(rows: readonly StoredEntry[]): ChainWalk {
  const counts = new Map<number, number>();
  for (const row of rows) if (isRow(row)) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
  const heads = [GENESIS_HASH];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const expected = i + 1;
    const fail = (seq: number, reason: VerifyFailure): ChainWalk => ({ heads, bad: { seq, reason } });
    if (!isRow(row)) return fail(expected, 'ENTRY_MALFORMED');
    if (row.seq !== expected) {
      if ((counts.get(row.seq) ?? 0) > 1) return fail(Math.min(row.seq, expected), 'SEQ_DUPLICATE');
      return fail(expected, counts.has(expected) ? 'SEQ_ORDER' : 'SEQ_GAP');
    }
    if (row.prevHash !== heads[i]) return fail(expected, 'CHAIN_BROKEN');
    let hash: string;
    try {
      hash = entryHash(row.prevHash, row.seq, row.entry);
    } catch {
      return fail(expected, 'ENTRY_MALFORMED');
    }
    if (hash !== row.hash) return fail(expected, 'ENTRY_HASH_MISMATCH');
    heads.push(hash);
  }
  return { heads, bad: null };
}

/**
 * Verifies stored entries (in the order given, which must be seq order) against signed checkpoints,
 * and names the first bad seq. A chain recomputed after tampering is consistent, so only a signed
 * checkpoint can catch a rewritten tail; entries after the last checkpoint are reported unverified.
 *
 * @example
 * const result = verifyChain(rows, checkpointJwsList, auditPublicKey, { node: 'WMP' });
 * if (result.status === 'failed') alert(`audit log FAILED at seq ${result.firstBad?.seq}: ${result.firstBad?.reason}`);
 */
export function verifyChain(
  rows: readonly StoredEntry[],
  checkpoints: readonly string[],
  publicKey: VerifyKey<'audit-checkpoint'> | KeyResolver,
  options: VerifyChainOptions = {},
): ChainVerification {
  const { heads, bad: chainBad } = walkChain(rows);
  const intact = heads.length - 1;
  // The chain's own failure goes first, so it wins ties with a checkpoint failure at the same seq.
  const bads: FirstBad[] = chainBad ? [chainBad] : [];
  const good: number[] = [];

  checkpoints.forEach((jws, index) => {
    let checkpoint;
    try {
      checkpoint = verifyCheckpoint(jws, publicKey);
    } catch (error) {
      if (!(error instanceof McxError)) throw error;
      bads.push({ seq: claimedSize(jws), reason: error.code as VerifyFailure, checkpoint: index });
      return;
    }
    const { size } = checkpoint;
    if (options.node !== undefined && checkpoint.node !== options.node) {
      bads.push({ seq: size, reason: 'CHECKPOINT_WRONG_NODE', checkpoint: index });
    } else if (size > intact) {
      // Past a chain failure the head cannot be checked, and that failure is the lower seq anyway.
      if (chainBad === null) bads.push({ seq: intact + 1, reason: 'TRUNCATED', checkpoint: index });
    } else if (heads[size] !== checkpoint.headHash) {
      bads.push({ seq: size, reason: 'CHECKPOINT_MISMATCH', checkpoint: index });
    } else {
      good.push(size);
    }
  });

  const firstBad = bads.reduce<FirstBad | null>((first, b) => (first === null || b.seq < first.seq ? b : first), null);
  const limit = firstBad === null ? Infinity : firstBad.seq;
  const verifiedThrough = good.filter((size) => size < limit).reduce((max, size) => Math.max(max, size), 0);
  const unverifiedAfter = Math.max(0, rows.length - verifiedThrough);
  const status = firstBad !== null ? 'failed' : unverifiedAfter > 0 ? 'unverified' : 'ok';
  return {
    ok: status === 'ok',
    status,
    verifiedThrough,
    unverifiedAfter,
    firstBad,
    checkpointsChecked: good.length,
    entries: rows.length,
    chainIntactThrough: intact,
  };
}
