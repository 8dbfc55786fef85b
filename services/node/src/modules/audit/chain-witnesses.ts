import { countedCheckpoints, verifyChainPaged, type ChainVerification, type StoredEntry } from '@mcx/audit';
import { keyResolverFromKeys, toPublicKey, type SigningKey, type VerifyKey } from '@mcx/signing';

/** The first bad seq found, why (a `verifyChain` reason or one of the node's own), and for a column its name. */
export interface ChainBreak {
  seq: number;
  reason: string;
  column?: string;
}

/**
 * The lowest witness (an entry this process appended and saw commit, seq to hash) whose row no
 * longer has the hash it was committed with, among `hashes` (seq to hash as stored now).
 */
export function changedWitness(witnesses: ReadonlyMap<number, string>, hashes: ReadonlyMap<number, string>): ChainBreak | null {
  let bad: ChainBreak | null = null;
  for (const [seq, hash] of witnesses) {
    if (hashes.get(seq) !== hash && (bad === null || seq < bad.seq)) bad = { seq, reason: 'APPENDED_ENTRY_CHANGED' };
  }
  return bad;
}

/** What a node checks its own log with. */
export interface OwnAuditKeys {
  node: string;
  auditKey: SigningKey<'audit-checkpoint'>;
  retiredAuditKeys?: readonly VerifyKey<'audit-checkpoint'>[];
  isRevokedKey?: (kid: string) => boolean;
}

/**
 * `verifyChainPaged` over the node's own log, read a page at a time. Each checkpoint is checked
 * under the key its kid names: the current key, or one a rotation retired (and the manifest has not
 * revoked), the latter only up to the current key's first (`countedCheckpoints`). One under any
 * other key is left out: junk, or a retired key whose file was removed; it vouches for nothing, and
 * hides nothing.
 */
export function verifyOwnChain(
  pages: AsyncIterable<readonly StoredEntry[]>,
  checkpoints: readonly string[],
  keys: OwnAuditKeys,
): Promise<ChainVerification> {
  const current = toPublicKey(keys.auditKey);
  const retired = (keys.retiredAuditKeys ?? []).filter((k) => !keys.isRevokedKey?.(k.kid));
  const counted = countedCheckpoints(checkpoints, { current: current.kid, retired: retired.map((k) => k.kid) }, 'leave-out');
  return verifyChainPaged(pages, counted.jws, keyResolverFromKeys([current, ...retired]), { node: keys.node });
}
