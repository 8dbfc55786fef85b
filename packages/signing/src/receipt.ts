import { McxError } from '@mcx/errors';

import { canonicalJson, parseCanonicalJson } from './canonical-json.js';
import { isoUtcMs } from './iso-time.js';
import { checkHeader, decodeBase64url, decodeJws, signCompact, verifyInput, type HeaderProblem } from './jws.js';
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
    // Written as nodes write times, or no receipt: whoever prints or dates by it reads a real instant.
    Number.isFinite(isoUtcMs(r.at)) &&
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
  if (auditKey.job !== 'audit-checkpoint') throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${auditKey.job} key cannot sign receipts`);
  if (!isReceipt(receipt))
    throw new McxError(
      ReceiptErrorCode.RECEIPT_MALFORMED,
      'a receipt is exactly { node, to, jti, callerEntry, entry: { id, hash }, checkpoint, at }, its time in ISO 8601 UTC',
    );
  return signCompact(RECEIPT_TYP, canonicalJson(receipt), auditKey);
}

/**
 * Verifies a compact JWS of `typ` over canonical JSON, signed with an audit-checkpoint key that
 * `resolve` knows, whose payload `isValue` accepts (receipts here, receipts-seal.ts's seals).
 * Refuses through `refuse` with a ReceiptErrorCode.
 */
export function verifyAuditJws<T>(
  jws: string,
  typ: string,
  resolve: KeyResolver,
  isValue: (v: unknown) => v is T,
  refuse: (code: ReceiptErrorCode) => never,
): { value: T; kid: string } {
  if (typeof jws !== 'string') return refuse(ReceiptErrorCode.RECEIPT_MALFORMED);
  const decoded = decodeJws(jws);
  if (decoded === null || decoded.encodedPayload === '') return refuse(ReceiptErrorCode.RECEIPT_MALFORMED);
  const checked = checkHeader(decoded.header, typ);
  if ('problem' in checked) return refuse(RECEIPT_REFUSAL[checked.problem]);
  const lookup = resolve(checked.kid);
  if (!lookup.found) return refuse(RECEIPT_REFUSAL[lookup.reason]);
  if (lookup.job !== 'audit-checkpoint') return refuse(ReceiptErrorCode.RECEIPT_KEY_NOT_FOR_JOB);
  if (!verifyInput(decoded, decoded.encodedPayload, lookup.publicKey)) return refuse(ReceiptErrorCode.RECEIPT_BAD_SIGNATURE);
  const parsed = parseCanonicalJson((decodeBase64url(decoded.encodedPayload) ?? Buffer.alloc(0)).toString('utf8'));
  if (!parsed.canonical || !isValue(parsed.value)) return refuse(ReceiptErrorCode.RECEIPT_MALFORMED);
  return { value: parsed.value, kid: checked.kid };
}

/**
 * Verifies a receipt against audit-checkpoint keys (for example `holder.keyResolver('audit-checkpoint')`).
 * Throws McxError with a ReceiptErrorCode (RECEIPT_MALFORMED, RECEIPT_UNKNOWN_KEY, RECEIPT_BAD_SIGNATURE, ...).
 * The caller still checks that `node` is the member that answered and that `jti` is its own token's.
 */
export function verifyReceipt(jws: string, resolve: KeyResolver): { receipt: DisclosureReceipt; kid: string } {
  const refuse = (code: ReceiptErrorCode): never => {
    throw new McxError(code, `disclosure receipt refused: ${code.slice('RECEIPT_'.length)}`);
  };
  const { value, kid } = verifyAuditJws(jws, RECEIPT_TYP, resolve, isReceipt, refuse);
  return { receipt: value, kid };
}
