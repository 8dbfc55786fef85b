import { McxError } from '@mcx/errors';

import { canonicalJson, parseCanonicalJson } from './canonical-json.js';
import { isoUtcMs } from './iso-time.js';
import { checkHeader, decodeBase64url, decodeJws, signCompact, verifyInput, type HeaderProblem } from './jws.js';
import { keyResolverFromKeys, type KeyLookupFailure, type KeyResolver } from './key-resolver.js';
import { JOB_TYP, type SigningKey, type VerifyKey } from './keys.js';
import { CheckpointErrorCode, KeyErrorCode } from './signing-errors.js';
import { rememberVerified, verifiedDigest, wasVerified } from './verified-cache.js';

/** The checkpoint refusal for each header problem and key lookup failure; a new problem fails to compile until it has one. */
const CHECKPOINT_REFUSAL: Readonly<Record<HeaderProblem | KeyLookupFailure, CheckpointErrorCode>> = {
  MALFORMED: CheckpointErrorCode.CHECKPOINT_MALFORMED,
  WRONG_ALG: CheckpointErrorCode.CHECKPOINT_WRONG_ALG,
  WRONG_TYP: CheckpointErrorCode.CHECKPOINT_WRONG_TYP,
  UNKNOWN_KEY: CheckpointErrorCode.CHECKPOINT_UNKNOWN_KEY,
  REVOKED_KEY: CheckpointErrorCode.CHECKPOINT_REVOKED_KEY,
  KEY_NOT_FOR_JOB: CheckpointErrorCode.CHECKPOINT_KEY_NOT_FOR_JOB,
};

/** A signed statement of a node's audit log head: after `size` entries, the head hash was `headHash`. */
export interface Checkpoint {
  /** The member code of the node whose log this is. */
  node: string;
  size: number;
  headHash: string;
  /** ISO 8601 instant in UTC, as Date.prototype.toISOString writes it. */
  at: string;
}

function assertCheckpoint(value: unknown): asserts value is Checkpoint {
  const c = value as Partial<Record<keyof Checkpoint, unknown>> | null;
  const ok =
    typeof c === 'object' &&
    c !== null &&
    !Array.isArray(c) &&
    typeof c.node === 'string' &&
    c.node.length > 0 &&
    Number.isSafeInteger(c.size) &&
    (c.size as number) >= 0 &&
    typeof c.headHash === 'string' &&
    c.headHash.length > 0 &&
    // Written as nodes write times: a receipt quotes it, and the auditors' pages show and date by it.
    Number.isFinite(isoUtcMs(c.at)) &&
    Object.keys(c).length === 4;
  if (!ok) throw new McxError(CheckpointErrorCode.CHECKPOINT_MALFORMED, 'checkpoint must be exactly { node, size, headHash, at }');
}

/**
 * Signs an audit checkpoint with the node's audit-checkpoint key (compact JWS, `typ` `mcx-checkpoint+jws`).
 *
 * @example
 * const jws = signCheckpoint({ node: 'WMP', size: 1042, headHash, at: new Date().toISOString() }, auditKey);
 */
export function signCheckpoint(checkpoint: Checkpoint, auditKey: SigningKey<'audit-checkpoint'>): string {
  if (auditKey.job !== 'audit-checkpoint')
    throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${auditKey.job} key cannot sign checkpoints`);
  const { node, size, headHash, at } = checkpoint;
  const body = { node, size, headHash, at };
  assertCheckpoint(body);
  return signCompact(JOB_TYP['audit-checkpoint'], canonicalJson(body), auditKey);
}

/**
 * Verifies a checkpoint JWS with one public key, or a resolver such as `holder.keyResolver('audit-checkpoint')`.
 * Throws `McxError` with a CheckpointErrorCode (for example `CHECKPOINT_BAD_SIGNATURE`).
 *
 * @example
 * const checkpoint = verifyCheckpoint(receipt.checkpoint, holder.keyResolver('audit-checkpoint'));
 * if (checkpoint.node !== answeringMember) throw new Error('receipt from the wrong node');
 */
export function verifyCheckpoint(jws: string, publicKey: VerifyKey<'audit-checkpoint'> | KeyResolver): Checkpoint {
  const refuse = (code: CheckpointErrorCode): never => {
    throw new McxError(code, `audit checkpoint refused: ${code.slice('CHECKPOINT_'.length)}`);
  };
  const decoded = decodeJws(jws);
  if (decoded === null || decoded.encodedPayload === '') return refuse(CheckpointErrorCode.CHECKPOINT_MALFORMED);
  const checked = checkHeader(decoded.header, JOB_TYP['audit-checkpoint']);
  if ('problem' in checked) return refuse(CHECKPOINT_REFUSAL[checked.problem]);

  const resolve = typeof publicKey === 'function' ? publicKey : keyResolverFromKeys([publicKey]);
  const lookup = resolve(checked.kid);
  if (!lookup.found) return refuse(CHECKPOINT_REFUSAL[lookup.reason]);
  if (lookup.job !== 'audit-checkpoint') return refuse(CheckpointErrorCode.CHECKPOINT_KEY_NOT_FOR_JOB);
  // A node cuts a checkpoint a minute or so apart and quotes its latest in every receipt, so the
  // same checkpoint comes back in every answer until the next: verified once under this key, then
  // a SHA-256 of the exact header, signature and payload (any changed byte is verified afresh).
  // The key's status was resolved above, every time; the payload's checks below run every time.
  const digest = decoded.signature.length === 64 ? verifiedDigest(decoded.encodedHeader, decoded.signature, decoded.encodedPayload) : null;
  const seen = digest !== null && wasVerified(lookup.publicKey, digest);
  if (!seen && !verifyInput(decoded, decoded.encodedPayload, lookup.publicKey)) return refuse(CheckpointErrorCode.CHECKPOINT_BAD_SIGNATURE);

  const parsed = parseCanonicalJson((decodeBase64url(decoded.encodedPayload) ?? Buffer.alloc(0)).toString('utf8'));
  if (!parsed.canonical) return refuse(CheckpointErrorCode.CHECKPOINT_NOT_CANONICAL);
  try {
    assertCheckpoint(parsed.value);
  } catch {
    return refuse(CheckpointErrorCode.CHECKPOINT_MALFORMED);
  }
  if (!seen && digest !== null) rememberVerified(lookup.publicKey, digest);
  return parsed.value;
}
