import { McxError } from '@mcx/errors';
import { signCheckpoint, type SigningKey } from '@mcx/signing';

import { AuditErrorCode } from './audit-errors.js';
import { GENESIS_HASH, HASH_PATTERN, type ChainHead } from './chain.js';

/**
 * Signs the head of `node`'s audit log as a checkpoint JWS: `{ node, size: head.seq, headHash: head.hash, at }`.
 *
 * @example
 * const jws = makeCheckpoint('WMP', { seq: 1042, hash }, new Date().toISOString(), keys.auditCheckpoint);
 */
export function makeCheckpoint(node: string, head: ChainHead, at: string, auditKey: SigningKey<'audit-checkpoint'>): string {
  const ok =
    Number.isSafeInteger(head.seq) && head.seq >= 0 && HASH_PATTERN.test(head.hash) && (head.seq > 0 || head.hash === GENESIS_HASH);
  if (!ok) throw new McxError(AuditErrorCode.CHAIN_HEAD_INVALID, 'a checkpoint head must be { seq >= 0, hash: 64 lower-case hex }');
  return signCheckpoint({ node, size: head.seq, headHash: head.hash, at }, auditKey);
}
