import { McxError } from '@mcx/errors';
import { KeyErrorCode, keyResolverFromKeys, verifyKeyFromPem, type VerifyKey } from '@mcx/signing';

import { parseExport, type AuditExport } from './export.js';
import { countedCheckpoints } from './rotation.js';
import { verifyChain, type ChainVerification, type FirstBad } from './verify.js';

/** `verifyChain`'s result for an export, with the node it claims and a report to print, one line each. */
export interface ExportVerification extends ChainVerification {
  node: string;
  report: string[];
}

const EXPLAIN: Record<string, string> = {
  SEQ_GAP: 'an entry is missing (deleted)',
  SEQ_ORDER: 'entries are out of seq order',
  SEQ_DUPLICATE: 'a seq appears twice (an entry was inserted)',
  CHAIN_BROKEN: 'prevHash does not link to the entry before (an entry was deleted, inserted or altered)',
  ENTRY_HASH_MISMATCH: 'the entry does not match its hash (altered)',
  ENTRY_MALFORMED: 'the entry cannot be hashed',
  TRUNCATED: 'a signed checkpoint covers more entries than the export holds (the tail was deleted)',
  CHECKPOINT_WRONG_NODE: 'a checkpoint names another node',
  CHECKPOINT_BAD_SIGNATURE: 'a checkpoint signature does not verify under the key given',
  CHECKPOINT_UNKNOWN_KEY: 'a checkpoint was signed by a key other than those given (after a rotation, give the retired keys too)',
};

function explain(bad: FirstBad, verifiedThrough: number, entryLines: number): string {
  if (bad.reason === 'COLUMN_MISMATCH') {
    return `the stored ${bad.column ?? ''} column differs from the hashed entry: the row was edited outside the chain, so a filter or a query reading that column is misled`;
  }
  if (bad.reason === 'CHECKPOINT_MISMATCH') {
    // The hashes alone cannot say which entry changed: only that one between the checkpoints did.
    return `the head hash differs from the signed checkpoint: an entry from seq ${verifiedThrough + 1} to ${bad.seq} was altered, inserted or deleted, and the hashes after it recomputed`;
  }
  const text = EXPLAIN[bad.reason] ?? 'a checkpoint was refused';
  return bad.checkpoint === undefined ? text : `${text} (the checkpoint on line ${entryLines + 2 + bad.checkpoint})`;
}

function kidOfPem(pem: string): string | null {
  try {
    return verifyKeyFromPem(pem, 'audit-checkpoint').kid;
  } catch {
    return null;
  }
}

/** What the report says of the export header's key (`madeUnder`, its kid; null when it is not a key). */
function headerKeyNote(madeUnder: string | null, kids: ReadonlySet<string>): string | null {
  if (madeUnder === null) return "note: the export header's publicKey is not a valid public key; only the keys given are trusted";
  return kids.has(madeUnder) ? null : "note: the export header's publicKey differs from the keys given; only the keys given are trusted";
}

/**
 * The audit-checkpoint public keys in a PEM text: one SPKI block, or several, the current key first
 * and then those retired by rotation, as `mcx audit public-key --all` prints them. Throws
 * `KEY_INVALID` for text that holds no public key, for a private key anywhere in it, and for anything
 * but whitespace between the blocks.
 */
export function auditKeysFromPem(text: string): VerifyKey<'audit-checkpoint'>[] {
  if (/PRIVATE KEY/.test(text)) throw new McxError(KeyErrorCode.KEY_INVALID, 'expected public keys only, got a private key');
  const block = /-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----/g;
  const blocks = text.match(block) ?? [];
  if (blocks.length === 0 || text.replace(block, '').trim() !== '')
    throw new McxError(KeyErrorCode.KEY_INVALID, 'expected one or more PEM public keys (SPKI) and nothing else');
  return blocks.map((b) => verifyKeyFromPem(b, 'audit-checkpoint'));
}

/**
 * Verifies an export (its text, or as `parseExport` read it) with only the node's audit-checkpoint
 * public keys (SPKI PEM, one or several): no database.
 * Throws `EXPORT_MALFORMED` (with a line number) or `KEY_INVALID`; every tampering case is a result.
 *
 * @example
 * const { ok, report } = verifyExport(readFileSync('wmp-audit.jsonl', 'utf8'), readFileSync('wmp-audit.pub.pem', 'utf8'));
 * console.log(report.join('\n')); process.exitCode = ok ? 0 : 1;
 */
export function verifyExport(text: string | AuditExport, publicKeyPem: string): ExportVerification {
  const keys = auditKeysFromPem(publicKeyPem);
  const { header, entries, checkpoints } = typeof text === 'string' ? parseExport(text) : text;
  // Each checkpoint is checked with the key its kid names, among those given (the first is the
  // current one); a retired key's count only up to the current key's first.
  const counted = countedCheckpoints(checkpoints, { current: keys[0]!.kid, retired: keys.slice(1).map((k) => k.kid) }, 'keep');
  const verified = verifyChain(entries, counted.jws, keyResolverFromKeys(keys), { node: header.node });
  const bad = verified.firstBad;
  let result: ChainVerification =
    bad?.checkpoint === undefined ? verified : { ...verified, firstBad: { ...bad, checkpoint: counted.indexes[bad.checkpoint]! } };
  // Taking another key as the current one moves what the retired keys may vouch for: an export made
  // under a key other than the first given is never OK.
  const madeUnder = kidOfPem(header.publicKey);
  const misordered = madeUnder !== keys[0]!.kid && keys.some((k) => k.kid === madeUnder);
  if (misordered && result.status === 'ok') result = { ...result, ok: false, status: 'unverified' };

  const report = [
    `audit export of ${header.node} (${header.format}), exported ${header.exportedAt}: ${entries.length} entries, ${checkpoints.length} checkpoints`,
  ];
  const note = headerKeyNote(madeUnder, new Set(keys.map((k) => k.kid)));
  if (note !== null) report.push(note);
  if (counted.retiredLeftOut > 0)
    report.push(
      `note: ${counted.retiredLeftOut} checkpoints under a retired key were not counted: they claim more entries than the first checkpoint under the current key (the first key given), or there is none under it. For an export made before the rotation, give only the key it was made under (mcx audit public-key --kid <kid>)`,
    );
  if (misordered)
    report.push(
      `UNVERIFIED: the export was made under key ${madeUnder}, which is given but not first: give the keys in the order mcx audit public-key --all prints them (the current key first)`,
    );
  if (header.format === 'mcx-audit-export/1')
    report.push('note: a mcx-audit-export/1 export holds no stored columns; only the hashed entries are checked');
  if (result.verifiedThrough > 0) report.push(`ok through seq ${result.verifiedThrough}`);
  if (result.firstBad !== null) {
    const { seq, reason } = result.firstBad;
    report.push(`FAILED at seq ${seq}: ${reason}: ${explain(result.firstBad, result.verifiedThrough, entries.length)}`);
  } else if (result.unverifiedAfter > 0) {
    const from = result.verifiedThrough + 1;
    const to = result.verifiedThrough + result.unverifiedAfter;
    report.push(`UNVERIFIED: ${result.unverifiedAfter} entries after the last checkpoint (seq ${from} to ${to})`);
  }
  report.push(`result: ${result.status.toUpperCase()}`);
  return { ...result, node: header.node, report };
}
