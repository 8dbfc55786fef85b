/**
 * The holder's seal on a receipts file (GET /audit/receipts): the member that holds another node's
 * receipts signs, with its own audit-checkpoint key, how many it handed over and a digest of them.
 * Each receipt is signed by the node it witnesses, so nobody can forge one; without the seal, whoever
 * carries the file to that node's auditors could still leave some out (the receipts for a tail the
 * node removed from its log), and the log would then check out against what was left.
 */
import { createHash } from 'node:crypto';

import { McxError } from '@mcx/errors';

import { canonicalJson } from './canonical-json.js';
import { encodeBase64url, signCompact } from './jws.js';
import type { KeyResolver } from './key-resolver.js';
import type { SigningKey } from './keys.js';
import { verifyAuditJws } from './receipt.js';
import { KeyErrorCode, ReceiptErrorCode } from './signing-errors.js';

/** The `typ` of a receipts file's seal (signed with the holder's audit-checkpoint key, never a checkpoint or a receipt). */
export const RECEIPTS_SEAL_TYP = 'mcx-receipts-seal+jws';

/** What the holder signs: the file's header fields, the number of receipts and the digest of the lines before the seal. */
export interface ReceiptsSeal {
  holder: string;
  from: string;
  exportedAt: string;
  receipts: number;
  /** base64url SHA-256 of the header line and the receipt lines, each followed by a newline, as the holder wrote them. */
  digest: string;
}

const KEYS = ['holder', 'from', 'exportedAt', 'receipts', 'digest'];

function isSeal(v: unknown): v is ReceiptsSeal {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  if (Object.keys(r).length !== KEYS.length || !KEYS.every((k) => k in r)) return false;
  return (
    ['holder', 'from', 'exportedAt', 'digest'].every((k) => typeof r[k] === 'string' && (r[k] as string).length > 0) &&
    Number.isSafeInteger(r.receipts) &&
    (r.receipts as number) >= 0
  );
}

/** A running SHA-256 over a receipts file's lines, for its seal: `add` each line as written (without its newline). */
export function receiptsDigest(): { add(line: string): void; digest(): string } {
  const hash = createHash('sha256');
  return {
    add: (line) => void hash.update(`${line}\n`, 'utf8'),
    digest: () => encodeBase64url(hash.digest()),
  };
}

/** Seals a receipts file (compact JWS over canonical JSON, `typ` mcx-receipts-seal+jws) with the holder's audit-checkpoint key. */
export function signReceiptsSeal(seal: ReceiptsSeal, auditKey: SigningKey<'audit-checkpoint'>): string {
  if (auditKey.job !== 'audit-checkpoint')
    throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${auditKey.job} key cannot seal a receipts file`);
  if (!isSeal(seal))
    throw new McxError(ReceiptErrorCode.RECEIPT_MALFORMED, 'a seal is exactly { holder, from, exportedAt, receipts, digest }');
  return signCompact(RECEIPTS_SEAL_TYP, canonicalJson(seal), auditKey);
}

/**
 * Verifies a seal against the holder's audit-checkpoint keys. Throws McxError with a
 * ReceiptErrorCode (RECEIPT_MALFORMED, RECEIPT_UNKNOWN_KEY, RECEIPT_BAD_SIGNATURE, ...); the caller
 * compares what it states with the file.
 */
export function verifyReceiptsSeal(jws: string, resolve: KeyResolver): { seal: ReceiptsSeal; kid: string } {
  const refuse = (code: ReceiptErrorCode): never => {
    throw new McxError(code, `receipts file seal refused: ${code.slice('RECEIPT_'.length)}`);
  };
  const { value, kid } = verifyAuditJws(jws, RECEIPTS_SEAL_TYP, resolve, isSeal, refuse);
  return { seal: value, kid };
}
