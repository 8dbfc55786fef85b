import { isMcxError } from '@mcx/errors';
import { CheckpointErrorCode, verifyCheckpoint, type KeyResolver, type VerifyKey } from '@mcx/signing';

import { entryHash, GENESIS_HASH, type ChainHead, type StoredEntry } from './chain.js';
import { columnMismatch } from './columns.js';

/** Why verification failed: a fault of the chain, of a checkpoint against it, or a refusal of `verifyCheckpoint`. */
export type VerifyFailure =
  | 'SEQ_GAP'
  | 'SEQ_ORDER'
  | 'SEQ_DUPLICATE'
  | 'CHAIN_BROKEN'
  | 'ENTRY_HASH_MISMATCH'
  | 'ENTRY_MALFORMED'
  | 'COLUMN_MISMATCH'
  | 'TRUNCATED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_WRONG_NODE'
  | CheckpointErrorCode;

/** The first thing found wrong: the lowest seq, and for a checkpoint its index in the list given. */
export interface FirstBad {
  seq: number;
  reason: VerifyFailure;
  checkpoint?: number;
  /** For `COLUMN_MISMATCH`: which stored column differs from the hashed entry (its name, never its value). */
  column?: string;
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
    !Array.isArray(r.entry) &&
    (r.columns === undefined || (typeof r.columns === 'object' && r.columns !== null && !Array.isArray(r.columns)))
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
  /** `heads[n]` is the hash of entry `start.seq + n` (`heads[0]` the start's), for the intact prefix. */
  heads: string[];
  /** The first break of seq, link or hash: nothing after it can be trusted. */
  bad: FirstBad | null;
  /** The first row (before `bad`) whose stored column copies differ from its hashed entry. */
  columnBad: FirstBad | null;
}

const GENESIS: ChainHead = { seq: 0, hash: GENESIS_HASH };

function walkChain(rows: readonly StoredEntry[], start: ChainHead = GENESIS): ChainWalk {
  const counts = new Map<number, number>();
  for (const row of rows) if (isRow(row)) counts.set(row.seq, (counts.get(row.seq) ?? 0) + 1);
  const heads = [start.hash];
  let columnBad: FirstBad | null = null;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const expected = start.seq + i + 1;
    const fail = (seq: number, reason: VerifyFailure): ChainWalk => ({ heads, bad: { seq, reason }, columnBad });
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
    // A column copy edited outside the chain leaves the chain intact (the walk goes on, so the
    // checkpoints can still be checked), but the row is reported: filters or SQL reading the copy lie.
    if (columnBad === null && row.columns !== undefined) {
      const column = columnMismatch(row.entry, row.columns);
      if (column !== null) columnBad = { seq: expected, reason: 'COLUMN_MISMATCH', column };
    }
    heads.push(hash);
  }
  return { heads, bad: null, columnBad };
}

/**
 * Checks rows that continue a chain from `start` (a head already trusted, for example the head of
 * the last verified checkpoint): each seq, link and hash, and each row's stored column copies.
 * Returns the head reached (the last good row) and the first thing wrong, if any.
 *
 * @example
 * const { head, firstBad } = verifyContinuation({ seq: checkpoint.size, hash: checkpoint.headHash }, rowsAfterIt);
 */
export function verifyContinuation(start: ChainHead, rows: readonly StoredEntry[]): { head: ChainHead; firstBad: FirstBad | null } {
  const { heads, bad, columnBad } = walkChain(rows, start);
  const reached = heads.length - 1;
  const firstBad = columnBad !== null && (bad === null || columnBad.seq < bad.seq) ? columnBad : bad;
  return { head: { seq: start.seq + reached, hash: heads[reached] ?? start.hash }, firstBad };
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
  const { heads, bad, columnBad } = walkChain(rows);
  const walked: Walked = { intact: heads.length - 1, headAt: (size) => heads[size], bad, columnBad, entries: rows.length };
  return judge(walked, checkpoints, publicKey, options);
}

/**
 * As verifyChain, over rows read a page at a time (each page in seq order, continuing the last, as
 * a database gives them by seq), so a long log is never held in memory at once and the reader
 * yields between pages: only the hashes at the seqs the checkpoints claim are kept. Pages after a
 * break are counted, not walked. Gives what verifyChain gives for the same rows and checkpoints.
 *
 * @example
 * const result = await verifyChainPaged(pagesOf(store), await store.checkpoints(), auditPublicKey, { node: 'WMP' });
 */
export async function verifyChainPaged(
  pages: AsyncIterable<readonly StoredEntry[]>,
  checkpoints: readonly string[],
  publicKey: VerifyKey<'audit-checkpoint'> | KeyResolver,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const wanted = new Set(checkpoints.map(claimedSize));
  const kept = new Map<number, string>();
  if (wanted.has(0)) kept.set(0, GENESIS.hash);
  let head = GENESIS;
  let bad: FirstBad | null = null;
  let columnBad: FirstBad | null = null;
  let entries = 0;
  for await (const page of pages) {
    entries += page.length;
    if (bad !== null) continue;
    const walk = walkChain(page, head);
    for (let n = 1; n < walk.heads.length; n++) if (wanted.has(head.seq + n)) kept.set(head.seq + n, walk.heads[n]!);
    columnBad ??= walk.columnBad;
    bad = walk.bad;
    const reached = walk.heads.length - 1;
    head = { seq: head.seq + reached, hash: walk.heads[reached]! };
  }
  return judge({ intact: head.seq, headAt: (size) => kept.get(size), bad, columnBad, entries }, checkpoints, publicKey, options);
}

/** What a walk of the whole log found: how far it is intact, its hash at a checkpoint's size, its first faults, its rows. */
interface Walked {
  intact: number;
  headAt(size: number): string | undefined;
  bad: FirstBad | null;
  columnBad: FirstBad | null;
  entries: number;
}

/** The verdict on a walked log: each checkpoint against the hash at its size, and the first bad seq of all. */
function judge(
  walked: Walked,
  checkpoints: readonly string[],
  publicKey: VerifyKey<'audit-checkpoint'> | KeyResolver,
  options: VerifyChainOptions,
): ChainVerification {
  const { intact, bad: chainBad, columnBad } = walked;
  // The chain's own failure goes first, so it wins ties with a checkpoint failure at the same seq.
  const bads: FirstBad[] = [...(chainBad ? [chainBad] : []), ...(columnBad ? [columnBad] : [])];
  const good: number[] = [];

  checkpoints.forEach((jws, index) => {
    let checkpoint;
    try {
      checkpoint = verifyCheckpoint(jws, publicKey);
    } catch (error) {
      if (!isMcxError(error, CheckpointErrorCode)) throw error;
      bads.push({ seq: claimedSize(jws), reason: error.code, checkpoint: index });
      return;
    }
    const { size } = checkpoint;
    if (options.node !== undefined && checkpoint.node !== options.node) {
      bads.push({ seq: size, reason: 'CHECKPOINT_WRONG_NODE', checkpoint: index });
    } else if (size > intact) {
      // Past a chain failure the head cannot be checked, and that failure is the lower seq anyway.
      if (chainBad === null) bads.push({ seq: intact + 1, reason: 'TRUNCATED', checkpoint: index });
    } else if (walked.headAt(size) !== checkpoint.headHash) {
      bads.push({ seq: size, reason: 'CHECKPOINT_MISMATCH', checkpoint: index });
    } else {
      good.push(size);
    }
  });

  const firstBad = bads.reduce<FirstBad | null>((first, b) => (first === null || b.seq < first.seq ? b : first), null);
  const limit = firstBad === null ? Infinity : firstBad.seq;
  const verifiedThrough = good.filter((size) => size < limit).reduce((max, size) => Math.max(max, size), 0);
  const unverifiedAfter = Math.max(0, walked.entries - verifiedThrough);
  const status = firstBad !== null ? 'failed' : unverifiedAfter > 0 ? 'unverified' : 'ok';
  return {
    ok: status === 'ok',
    status,
    verifiedThrough,
    unverifiedAfter,
    firstBad,
    checkpointsChecked: good.length,
    entries: walked.entries,
    chainIntactThrough: intact,
  };
}
