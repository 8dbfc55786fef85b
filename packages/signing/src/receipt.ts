import type { KeyObject } from 'node:crypto';

import { McxError } from '@mcx/errors';

import { canonicalJson, parseCanonicalJson } from './canonical-json.js';
import {
  checkHeader,
  decodeBase64url,
  decodeJws,
  encodeBase64url,
  encodeHeader,
  signInput,
  signInputAsync,
  verifyInput,
  verifyInputAsync,
  type DecodedJws,
  type HeaderProblem,
} from './jws.js';
import type { KeyLookupFailure, KeyResolver } from './key-resolver.js';
import type { SigningKey } from './keys.js';
import { KeyErrorCode, ReceiptErrorCode } from './signing-errors.js';

/** The receipt refusal for each header problem and key lookup failure. */
const RECEIPT_REFUSAL: Readonly<Record<HeaderProblem | KeyLookupFailure, ReceiptErrorCode>> = {
  MALFORMED: ReceiptErrorCode.RECEIPT_MALFORMED,
  WRONG_ALG: ReceiptErrorCode.RECEIPT_WRONG_ALG,
  WRONG_TYP: ReceiptErrorCode.RECEIPT_WRONG_TYP,
  UNKNOWN_KEY: ReceiptErrorCode.RECEIPT_UNKNOWN_KEY,
  REVOKED_KEY: ReceiptErrorCode.RECEIPT_REVOKED_KEY,
  KEY_NOT_FOR_JOB: ReceiptErrorCode.RECEIPT_KEY_NOT_FOR_JOB,
};

/** The `typ` of a disclosure receipt: signed with the audit-checkpoint key, but never a checkpoint. */
export const RECEIPT_TYP = 'mcx-receipt+jws';

/**
 * What a node that disclosed records gives the node that asked: the id and hash of its own
 * audit entry for the disclosure, the asker's entry it answers, and its latest signed
 * checkpoint. The asker stores it, so each node's log is witnessed by others.
 */
export interface DisclosureReceipt {
  /** The disclosing member. */
  node: string;
  /** The member that asked. */
  to: string;
  /** The node token's jti: one receipt per request. */
  jti: string;
  /** The asker's audit entry (`MEMBER:seq`) that this disclosure answers. */
  callerEntry: string;
  /** The disclosing node's own entry for the disclosure. */
  entry: { id: string; hash: string };
  /** The disclosing node's latest signed audit checkpoint (a compact JWS), or null before its first. */
  checkpoint: string | null;
  /** ISO 8601 instant. */
  at: string;
}

const KEYS = ['node', 'to', 'jti', 'callerEntry', 'entry', 'checkpoint', 'at'];

function isReceipt(v: unknown): v is DisclosureReceipt {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  if (Object.keys(r).length !== KEYS.length || !KEYS.every((k) => k in r)) return false;
  const entry = r.entry as Record<string, unknown> | null;
  return (
    ['node', 'to', 'jti', 'callerEntry', 'at'].every((k) => typeof r[k] === 'string' && (r[k] as string).length > 0) &&
    (r.checkpoint === null || typeof r.checkpoint === 'string') &&
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.id === 'string' &&
    typeof entry.hash === 'string' &&
    Object.keys(entry).length === 2
  );
}

/** Signs a disclosure receipt (compact JWS over canonical JSON, `typ` mcx-receipt+jws) with the audit-checkpoint key. */
export function signReceipt(receipt: DisclosureReceipt, auditKey: SigningKey<'audit-checkpoint'>): string {
  const { encodedHeader, encodedPayload } = unsignedReceipt(receipt, auditKey);
  return `${encodedHeader}.${encodedPayload}.${signInput(encodedHeader, encodedPayload, auditKey.privateKey)}`;
}

/** As signReceipt, the signature made on libuv's thread pool (jws.ts): what a node's peer endpoint uses. */
export async function signReceiptAsync(receipt: DisclosureReceipt, auditKey: SigningKey<'audit-checkpoint'>): Promise<string> {
  const { encodedHeader, encodedPayload } = unsignedReceipt(receipt, auditKey);
  return `${encodedHeader}.${encodedPayload}.${await signInputAsync(encodedHeader, encodedPayload, auditKey.privateKey)}`;
}

function unsignedReceipt(
  receipt: DisclosureReceipt,
  auditKey: SigningKey<'audit-checkpoint'>,
): { encodedHeader: string; encodedPayload: string } {
  if (auditKey.job !== 'audit-checkpoint') throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${auditKey.job} key cannot sign receipts`);
  if (!isReceipt(receipt))
    throw new McxError(
      ReceiptErrorCode.RECEIPT_MALFORMED,
      'a receipt is exactly { node, to, jti, callerEntry, entry: { id, hash }, checkpoint, at }',
    );
  const encodedHeader = encodeHeader({ alg: 'EdDSA', kid: auditKey.kid, typ: RECEIPT_TYP });
  return { encodedHeader, encodedPayload: encodeBase64url(canonicalJson(receipt)) };
}

const refuseReceipt = (code: ReceiptErrorCode): never => {
  throw new McxError(code, `disclosure receipt refused: ${code.slice('RECEIPT_'.length)}`);
};

/**
 * Verifies a receipt against audit-checkpoint keys (for example `holder.keyResolver('audit-checkpoint')`).
 * Throws McxError with a ReceiptErrorCode (RECEIPT_MALFORMED, RECEIPT_UNKNOWN_KEY, RECEIPT_BAD_SIGNATURE, ...).
 * The caller still checks that `node` is the member that answered and that `jti` is its own token's.
 */
export function verifyReceipt(jws: string, resolve: KeyResolver): { receipt: DisclosureReceipt; kid: string } {
  const signed = signedReceipt(jws, resolve);
  if (!verifyInput(signed.decoded, signed.decoded.encodedPayload, signed.publicKey))
    return refuseReceipt(ReceiptErrorCode.RECEIPT_BAD_SIGNATURE);
  return readReceipt(signed);
}

/** As verifyReceipt, the signature checked on libuv's thread pool (jws.ts): what a node's fan-out uses. */
export async function verifyReceiptAsync(jws: string, resolve: KeyResolver): Promise<{ receipt: DisclosureReceipt; kid: string }> {
  const signed = signedReceipt(jws, resolve);
  if (!(await verifyInputAsync(signed.decoded, signed.decoded.encodedPayload, signed.publicKey)))
    return refuseReceipt(ReceiptErrorCode.RECEIPT_BAD_SIGNATURE);
  // The keys may have changed while the signature was checked: the key must still resolve.
  const still = resolve(signed.kid);
  if (!still.found) return refuseReceipt(RECEIPT_REFUSAL[still.reason]);
  return readReceipt(signed);
}

/** A receipt's parts and the audit-checkpoint key its header names. */
function signedReceipt(jws: string, resolve: KeyResolver): { decoded: DecodedJws; kid: string; publicKey: KeyObject } {
  if (typeof jws !== 'string') return refuseReceipt(ReceiptErrorCode.RECEIPT_MALFORMED);
  const decoded = decodeJws(jws);
  if (decoded === null || decoded.encodedPayload === '') return refuseReceipt(ReceiptErrorCode.RECEIPT_MALFORMED);
  const checked = checkHeader(decoded.header, RECEIPT_TYP);
  if ('problem' in checked) return refuseReceipt(RECEIPT_REFUSAL[checked.problem]);
  const lookup = resolve(checked.kid);
  if (!lookup.found) return refuseReceipt(RECEIPT_REFUSAL[lookup.reason]);
  if (lookup.job !== 'audit-checkpoint') return refuseReceipt(ReceiptErrorCode.RECEIPT_KEY_NOT_FOR_JOB);
  return { decoded, kid: checked.kid, publicKey: lookup.publicKey };
}

/** The receipt a verified signature covers: canonical JSON of exactly its fields. */
function readReceipt({ decoded, kid }: { decoded: DecodedJws; kid: string }): { receipt: DisclosureReceipt; kid: string } {
  const parsed = parseCanonicalJson((decodeBase64url(decoded.encodedPayload) ?? Buffer.alloc(0)).toString('utf8'));
  if (!parsed.canonical || !isReceipt(parsed.value)) return refuseReceipt(ReceiptErrorCode.RECEIPT_MALFORMED);
  return { receipt: parsed.value, kid };
}
