/**
 * The receipts another member holds as witnesses of a node's log. Each time a node disclosed
 * records to a member it gave that member a receipt signed with its audit-checkpoint key: the id
 * and hash of its own entry for the disclosure, and its latest signed checkpoint. The member keeps
 * them (`GET /audit/receipts?from=<node>` hands them to its auditor as a receipts file).
 *
 * Checked against the node's export, they show what one file cannot, even with no older export
 * kept: a tail removed in the database together with the checkpoints over it, or a stretch
 * rewritten and signed again. Every receipt given before the export was made must find its entry
 * there with the same hash, and the checkpoint it quoted. "Before" is before the header's
 * exportedAt or before the export's newest checkpoint that verifies with the keys given (the node
 * signs one over the export's own entry as it starts), whichever is later: a backdated header
 * cannot excuse a receipt given before a signed checkpoint. A receipt given after both is still
 * checked if the export holds its seq; only one for an entry beyond the export is counted, not
 * checked. (A header edited to an earlier time can hide receipts given after the last signed
 * checkpoint: a node that signs nothing after removing a tail shows as unverified or broken to
 * `verifyExport`, and the report counts what it left unchecked.) The report names seqs and counts
 * only, never an entry's content.
 */
import { McxError } from '@mcx/errors';
import { keyResolverFromKeys, verifyCheckpoint, verifyReceipt, type DisclosureReceipt, type VerifyKey } from '@mcx/signing';

import { AuditErrorCode } from './audit-errors.js';
import type { AuditExport } from './export.js';

/** The format tag of a receipts file's header line. */
export const RECEIPTS_FORMAT = 'mcx-audit-receipts/1';

/** The first line of a receipts file: which member holds them, which node gave them, and when they were read. */
export interface ReceiptsHeader {
  type: 'header';
  format: typeof RECEIPTS_FORMAT;
  holder: string;
  from: string;
  exportedAt: string;
}

export interface ReceiptsFile {
  header: ReceiptsHeader;
  /** Each receipt's compact JWS, in the order the holder stored them. */
  receipts: string[];
}

export function receiptsHeaderLine(h: Omit<ReceiptsHeader, 'type' | 'format'>): string {
  const header: ReceiptsHeader = { type: 'header', format: RECEIPTS_FORMAT, holder: h.holder, from: h.from, exportedAt: h.exportedAt };
  return JSON.stringify(header);
}

export function receiptLine(jws: string): string {
  return JSON.stringify({ type: 'receipt', jws });
}

/** The last line: how many receipt lines came before it (a file cut short in transfer has none). */
export function receiptsEndLine(receipts: number): string {
  return JSON.stringify({ type: 'end', receipts });
}

function malformed(line: number, problem: string): McxError {
  return new McxError(AuditErrorCode.EXPORT_MALFORMED, `receipts file line ${line}: ${problem}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysAre = (v: Record<string, unknown>, keys: string[]) => Object.keys(v).length === keys.length && keys.every((k) => k in v);

/** Parses a receipts file; throws `EXPORT_MALFORMED` with the 1-based line number (never the line's content). */
export function parseReceiptsFile(text: string): ReceiptsFile {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  while (lines.length > 0 && /^\r?$/.test(lines.at(-1)!)) lines.pop();
  let header: ReceiptsHeader | null = null;
  const receipts: string[] = [];
  let ended = false;
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    if (ended) throw malformed(line, 'a line after the end line');
    let value: unknown;
    try {
      value = JSON.parse(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    } catch {
      throw malformed(line, 'not JSON');
    }
    if (!isRecord(value)) throw malformed(line, 'not a JSON object');
    if (header === null) {
      const ok =
        value.type === 'header' &&
        value.format === RECEIPTS_FORMAT &&
        keysAre(value, ['type', 'format', 'holder', 'from', 'exportedAt']) &&
        [value.holder, value.from, value.exportedAt].every((s) => typeof s === 'string' && s.length > 0);
      if (!ok) throw malformed(line, `the first line must be the header { type, format: ${RECEIPTS_FORMAT}, holder, from, exportedAt }`);
      header = value as unknown as ReceiptsHeader;
      continue;
    }
    if (value.type === 'receipt' && keysAre(value, ['type', 'jws']) && typeof value.jws === 'string') receipts.push(value.jws);
    else if (value.type === 'end' && keysAre(value, ['type', 'receipts']) && value.receipts === receipts.length) ended = true;
    else if (value.type === 'end') throw malformed(line, `the end line must count the ${receipts.length} receipts before it`);
    else throw malformed(line, 'a receipt line must be { type: receipt, jws }');
  }
  if (header === null) throw malformed(1, 'empty file: no header');
  if (!ended) throw malformed(lines.length + 1, 'no end line: the file was cut short (download it again)');
  return { header, receipts };
}

export interface WitnessComparison {
  ok: boolean;
  report: string[];
}

/**
 * Checks a node's export against the receipts a member holds from it, with the node's
 * audit-checkpoint public keys (as given to `mcx audit verify`). Fails on a receipt that does not
 * verify, that another node gave or that was given to another member than the file's holder, and
 * on any receipt given before the export was made whose entry is gone or changed, or whose quoted
 * checkpoint is gone.
 */
export function compareWithReceipts(
  file: ReceiptsFile,
  current: AuditExport,
  keys: readonly VerifyKey<'audit-checkpoint'>[],
): WitnessComparison {
  const { holder, from, exportedAt } = file.header;
  const node = current.header.node;
  const report = [`receipts ${holder} holds from ${from}, read ${exportedAt}: ${file.receipts.length}`];
  const fail = (why: string): WitnessComparison => ({ ok: false, report: [...report, `FAILED against ${holder}'s receipts: ${why}`] });
  if (from !== node) return fail(`they are receipts ${from} gave, and this is an export of ${node}`);
  const resolve = keyResolverFromKeys(keys);
  const hashes = new Map(current.entries.map((e) => [e.seq, e.hash]));
  const checkpoints = new Set(current.checkpoints);
  // When the export's newest signed checkpoint was made: every receipt given before then names an entry it holds.
  let signedAt = Number.NEGATIVE_INFINITY;
  for (const jws of current.checkpoints) {
    try {
      const cp = verifyCheckpoint(jws, resolve);
      if (cp.node === node) signedAt = Math.max(signedAt, Date.parse(cp.at));
    } catch {
      // Not one of this node's, under the keys given: verifyExport reports it; it dates nothing here.
    }
  }
  const lastSeq = current.entries.at(-1)?.seq ?? 0;
  const madeAt = Date.parse(current.header.exportedAt);
  let checked = 0;
  let after = 0;
  const quoted = new Set<string>();
  for (const [i, jws] of file.receipts.entries()) {
    let receipt: DisclosureReceipt;
    try {
      ({ receipt } = verifyReceipt(jws, resolve));
    } catch (err) {
      return fail(`receipt ${i + 1} does not verify with the keys given (${err instanceof McxError ? err.code : 'invalid'})`);
    }
    if (receipt.node !== node) return fail(`receipt ${i + 1} was given by ${receipt.node}, not ${node}`);
    if (receipt.to !== holder) return fail(`receipt ${i + 1} was given to ${receipt.to}, not ${holder}`);
    const seq = /^(.+):(\d{1,15})$/.exec(receipt.entry.id);
    if (!seq || seq[1] !== node) return fail(`receipt ${i + 1} names an entry that is not one of ${node}'s`);
    const n = Number(seq[2]);
    const before = Date.parse(receipt.at) < Math.max(signedAt, madeAt);
    // Given after the export was made and after its last checkpoint, for an entry beyond it: it may be newer than the file.
    if (!before && n > lastSeq) {
      after += 1;
      continue;
    }
    const now = hashes.get(n);
    if (now === undefined)
      return fail(`entry seq ${n}, which ${node} gave a receipt for at ${receipt.at}, is no longer in the log (removed)`);
    if (now !== receipt.entry.hash)
      return fail(`entry seq ${n}, which ${node} gave a receipt for at ${receipt.at}, has changed (its hash differs)`);
    // A checkpoint quoted after the export was made may be newer than the file: only one quoted before must be there.
    if (before && receipt.checkpoint !== null && !checkpoints.has(receipt.checkpoint))
      return fail(`a checkpoint ${node} quoted in its receipt for seq ${n} (at ${receipt.at}) is no longer in the log (removed)`);
    if (before && receipt.checkpoint !== null) quoted.add(receipt.checkpoint);
    checked += 1;
  }
  const later = after > 0 ? `; ${after} given after this export for entries beyond it, not checked` : '';
  return {
    ok: true,
    report: [
      ...report,
      `ok against ${holder}'s receipts: the ${checked} entries and ${quoted.size} checkpoints they witness are all here, unchanged${later}`,
    ],
  };
}
