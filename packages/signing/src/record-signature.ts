import { McxError } from '@mcx/errors';

import { canonicalJson, parseCanonicalJson, type JsonObject } from './canonical-json.js';
import { checkHeader, decodeJws, encodeBase64url, encodeHeader, signInput, verifyInput } from './jws.js';
import type { KeyResolver } from './key-resolver.js';
import { JOB_TYP, type SigningKey } from './keys.js';
import { CanonicalJsonErrorCode, KeyErrorCode } from './signing-errors.js';
import { rememberVerified, verifiedDigest, wasVerified } from './verified-cache.js';

/** A record as stored and sent: the exact canonical bytes and their detached JWS. */
export interface SignedRecord {
  /** The RFC 8785 canonical JSON that was signed; store and return exactly this. */
  bytes: string;
  /** Compact detached JWS (RFC 7515 appendix F): `header..signature`. */
  signature: string;
}

/** Why a record signature is refused. */
export type RecordRejection =
  'MALFORMED' | 'WRONG_TYP' | 'WRONG_ALG' | 'UNKNOWN_KEY' | 'REVOKED_KEY' | 'KEY_NOT_FOR_JOB' | 'BAD_SIGNATURE' | 'NOT_CANONICAL';

/** The outcome of `verifyRecord`: failures are data, so a caller can drop and report the record. */
export type RecordVerification = { valid: true; kid: string; payload: JsonObject } | { valid: false; reason: RecordRejection };

// The encoded header depends only on the key, so it is built once per key.
const headerCache = new WeakMap<SigningKey<'record'>, string>();

function recordHeader(key: SigningKey<'record'>): string {
  let encoded = headerCache.get(key);
  if (encoded === undefined) {
    encoded = encodeHeader({ alg: 'EdDSA', kid: key.kid, typ: JOB_TYP.record });
    headerCache.set(key, encoded);
  }
  return encoded;
}

/**
 * Signs a record: canonicalises it (RFC 8785) and returns the bytes with a detached EdDSA JWS.
 *
 * @example
 * const key = signingKeyFromPem(pem, 'record');
 * const { bytes, signature } = signRecord({ id, owner: 'WMP', version: 1 }, key);
 * // store `bytes` and `signature` verbatim; never rebuild the JSON from columns
 */
export function signRecord(record: object, key: SigningKey<'record'>): SignedRecord {
  if (key.job !== 'record') throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${key.job} key cannot sign records`);
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new McxError(CanonicalJsonErrorCode.NOT_JSON, 'a record must be a JSON object');
  }
  const bytes = canonicalJson(record);
  const encodedHeader = recordHeader(key);
  const signature = signInput(encodedHeader, encodeBase64url(bytes), key.privateKey);
  return { bytes, signature: `${encodedHeader}..${signature}` };
}

/**
 * Verifies record bytes against their detached JWS, with keys from `resolveKey`
 * (usually `holder.keyResolver('record')`). Never throws for a bad record.
 *
 * @example
 * const result = verifyRecord(row.bytes, row.signature, holder.keyResolver('record'));
 * if (!result.valid) report(result.reason);
 * else if (holder.ownerOfKid(result.kid)?.code !== answeringMember) report('WRONG_OWNER');
 */
export function verifyRecord(bytes: string, signature: string, resolveKey: KeyResolver): RecordVerification {
  if (typeof bytes !== 'string') return { valid: false, reason: 'MALFORMED' };
  const decoded = decodeJws(signature);
  // A detached JWS carries an empty payload part; anything else is not what we issue.
  if (decoded === null || decoded.encodedPayload !== '') return { valid: false, reason: 'MALFORMED' };
  const checked = checkHeader(decoded.header, JOB_TYP.record);
  if ('problem' in checked) return { valid: false, reason: checked.problem };

  const lookup = resolveKey(checked.kid);
  if (!lookup.found) return { valid: false, reason: lookup.reason };
  if (lookup.job !== 'record') return { valid: false, reason: 'KEY_NOT_FOR_JOB' };

  if (decoded.signature.length !== 64) return { valid: false, reason: 'BAD_SIGNATURE' };
  const digest = verifiedDigest(decoded.encodedHeader, decoded.signature, bytes);
  // Seen before: the signature verified and the bytes were a canonical JSON object then, and
  // they are the same bytes (the digest covers them), so parsing them is all that is left.
  // A string with a lone surrogate hashes as U+FFFD would (UTF-8), so it never takes the shortcut:
  // the full check below refuses it as NOT_CANONICAL.
  if (isWellFormed(bytes) && wasVerified(lookup.publicKey, digest))
    return { valid: true, kid: checked.kid, payload: JSON.parse(bytes) as JsonObject };
  if (!verifyInput(decoded, encodeBase64url(bytes), lookup.publicKey)) return { valid: false, reason: 'BAD_SIGNATURE' };

  // Checked after the signature, so NOT_CANONICAL means "signed, but by a publisher that did
  // not canonicalise": bytes altered in transit fail as BAD_SIGNATURE above.
  const parsed = parseCanonicalJson(bytes);
  if (!parsed.canonical) return { valid: false, reason: 'NOT_CANONICAL' };
  const payload = parsed.value;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { valid: false, reason: 'MALFORMED' };
  if (isWellFormed(bytes)) rememberVerified(lookup.publicKey, digest);
  return { valid: true, kid: checked.kid, payload };
}

/** No lone UTF-16 surrogate (String.prototype.isWellFormed, ES2024, in Node 20). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
