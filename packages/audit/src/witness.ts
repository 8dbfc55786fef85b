/**
 * The receipts another member holds as witnesses of a node's log. Each time a node disclosed
 * records to a member it gave that member a receipt signed with its audit-checkpoint key: the id
 * and hash of its own entry for the disclosure, and its latest signed checkpoint. The member keeps
 * them (`GET /audit/receipts?from=<node>` hands them to its auditor as a receipts file).
 *
 * Checked against the node's export, they show what one file cannot, even with no older export
 * kept: a tail removed in the database together with the checkpoints over it, or a stretch
 * rewritten and signed again. Every receipt must find its entry there with the same hash; one
 * given before the export was made (before the header's exportedAt or the export's newest
 * checkpoint that verifies, whichever is later) must find the checkpoint it quoted there too. A
 * receipt for an entry beyond the export, given after it, cannot be checked: the result is then
 * `unchecked`, never ok, since a removed tail looks the same when the node's clock or the file's
 * header lies. Fetch the receipts first, then the export. The report names seqs and counts only,
 * never an entry's content.
 */
import { McxError } from '@mcx/errors';
import {
  isoUtcMs,
  keyResolverFromKeys,
  ReceiptErrorCode,
  receiptsDigest,
  verifyCheckpoint,
  verifyReceipt,
  verifyReceiptsSeal,
  type DisclosureReceipt,
  type ReceiptsSeal,
  type VerifyKey,
} from '@mcx/signing';

import { AuditErrorCode } from './audit-errors.js';
import type { AuditExport } from './export.js';

/** The format tag of a receipts file's header line (2: the end line carries the holder's seal). */
export const RECEIPTS_FORMAT = 'mcx-audit-receipts/2';

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
  /** The holder's seal from the end line (a compact JWS, `signReceiptsSeal`), checked by compareWithReceipts. */
  seal: string;
  /** The digest of the header and receipt lines as the holder writes them, which the seal must state. */
  digest: string;
}

export function receiptsHeaderLine(h: Omit<ReceiptsHeader, 'type' | 'format'>): string {
  const header: ReceiptsHeader = { type: 'header', format: RECEIPTS_FORMAT, holder: h.holder, from: h.from, exportedAt: h.exportedAt };
  return JSON.stringify(header);
}

export function receiptLine(jws: string): string {
  return JSON.stringify({ type: 'receipt', jws });
}

/**
 * The last line: how many receipt lines came before it (a file cut short in transfer has none),
 * and the holder's seal over them (`signReceiptsSeal`, over `receiptsDigest` of the lines before).
 */
export function receiptsEndLine(receipts: number, seal: string): string {
  return JSON.stringify({ type: 'end', receipts, seal });
}

function malformed(line: number, problem: string): McxError {
  return new McxError(AuditErrorCode.EXPORT_MALFORMED, `receipts file line ${line}: ${problem}`);
}

/**
 * How far apart two nodes' clocks (or a node's replicas) may be. A receipt counts as given before
 * the export only when it is dated this much before it (one nearer, for an entry beyond the export,
 * is unchecked, never excused); one dated this much after the receipts file was read is refused.
 */
const CLOCK_SKEW_MS = 5 * 60_000;
/** A member's code, as the manifest and the route take it: nothing else is printed from a file's header. */
const MEMBER = /^[A-Z0-9][A-Z0-9_-]{1,15}$/;
/**
 * How long before an export, and before the check, its receipts may have been read. An older file,
 * however genuine, says nothing of what the node disclosed to the holder since: handed over again,
 * it would pass a log whose newer tail was removed (and a node that holds its own key can date an
 * export as it likes, so the time of the check counts too). The result is then `unchecked`, never ok.
 */
const STALE_MS = 24 * 3600_000;
/** What a signed receipt states, printed only in a form that cannot carry terminal control sequences. */
const shownTime = (s: string) => (Number.isFinite(isoUtcMs(s)) ? s : 'an unreadable time');
const shownMember = (s: string) => (MEMBER.test(s) ? s : 'something that is not a member code');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysAre = (v: Record<string, unknown>, keys: string[]) => Object.keys(v).length === keys.length && keys.every((k) => k in v);

/** Parses a receipts file; throws `EXPORT_MALFORMED` with the 1-based line number (never the line's content). */
export function parseReceiptsFile(text: string): ReceiptsFile {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  while (lines.length > 0 && /^\r?$/.test(lines.at(-1)!)) lines.pop();
  let header: ReceiptsHeader | null = null;
  const receipts: string[] = [];
  let ended = false;
  let seal = '';
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
        [value.holder, value.from].every((s) => typeof s === 'string' && MEMBER.test(s)) &&
        value.holder !== value.from &&
        typeof value.exportedAt === 'string' &&
        Number.isFinite(isoUtcMs(value.exportedAt));
      if (!ok)
        throw malformed(
          line,
          `the first line must be the header { type, format: ${RECEIPTS_FORMAT}, holder and from (two different member codes: a node's receipts to itself witness nothing), exportedAt (ISO 8601, UTC) }`,
        );
      header = value as unknown as ReceiptsHeader;
      continue;
    }
    if (value.type === 'receipt' && keysAre(value, ['type', 'jws']) && typeof value.jws === 'string') receipts.push(value.jws);
    else if (value.type === 'end' && keysAre(value, ['type', 'receipts', 'seal']) && value.receipts === receipts.length) {
      if (typeof value.seal !== 'string') throw malformed(line, "the end line's seal must be the holder's signature (a compact JWS)");
      seal = value.seal;
      ended = true;
    } else if (value.type === 'end')
      throw malformed(line, `the end line must count the ${receipts.length} receipts before it, and carry the seal`);
    else throw malformed(line, 'a receipt line must be { type: receipt, jws }');
  }
  if (header === null) throw malformed(1, 'empty file: no header');
  if (!ended) throw malformed(lines.length + 1, 'no end line: the file was cut short (download it again)');
  // Over the lines as the holder writes them (not the bytes read), so a copy whose line endings changed on the way still checks.
  const digest = receiptsDigest();
  digest.add(receiptsHeaderLine(header));
  for (const jws of receipts) digest.add(receiptLine(jws));
  return { header, receipts, seal, digest: digest.digest() };
}

export interface WitnessComparison {
  /** ok: every receipt checked and found; unchecked: nothing contradicts the log, but some (or all) could not be checked; failed. */
  status: 'ok' | 'unchecked' | 'failed';
  ok: boolean;
  report: string[];
}

/**
 * Checks a node's export against the receipts a member holds from it, with the node's
 * audit-checkpoint public keys (as given to `mcx audit verify`). Fails on a receipt that does not
 * verify, that another node gave, that was given to another member than the file's holder, or
 * that is dated after the holder read it; on any receipt whose seq the export holds with another
 * hash, or whose quoted checkpoint disagrees with the entry at its size; and on any receipt given
 * before the export was made (by more than CLOCK_SKEW_MS) whose entry or quoted checkpoint is
 * gone. A receipt for an entry (or quoting a checkpoint) beyond the export, given after it, is not
 * checked: the result is then `unchecked`, never ok (a tail removed from the log looks the same
 * when the export's times are not to be trusted), and so is a file with no receipt. Fetch the
 * receipts first, then the export: none is then beyond it.
 *
 * `holderKeys`: the holder's audit-checkpoint public keys, from a source the auditor trusts (the
 * holder's auditors, or the manifest), never from the file. The file's seal must verify with them
 * and state its header, its count and its digest: otherwise it was changed after the holder sealed
 * it (a receipt left out, say), and the result is failed. Without them the seal is not checked,
 * and the result is at best `unchecked`. So is a file read more than a day before the export was
 * made or before `checkedAt` (the time of the check): it says nothing of later disclosures.
 */
export function compareWithReceipts(
  file: ReceiptsFile,
  current: AuditExport,
  keys: readonly VerifyKey<'audit-checkpoint'>[],
  holderKeys: readonly VerifyKey<'audit-checkpoint'>[] = [],
  checkedAt: number = Date.now(),
): WitnessComparison {
  const { holder, from, exportedAt } = file.header;
  const node = current.header.node;
  const report = [`receipts ${holder} holds from ${from}, read ${exportedAt}: ${file.receipts.length}`];
  const fail = (why: string): WitnessComparison => ({
    status: 'failed',
    ok: false,
    report: [...report, `FAILED against ${holder}'s receipts: ${why}`],
  });
  if (from !== node) return fail(`they are receipts ${from} gave, and this is an export of ${node}`);
  const own = new Set(keys.map((k) => k.kid));
  if (holderKeys.some((k) => own.has(k.kid)))
    return fail(`a key given for ${holder} is one of ${node}'s own (--public-key): ${node} cannot seal the receipts that witness it`);
  // The holder's seal first: a receipt left out of the file (the one for a removed tail) shows only through it.
  const sealChecked = holderKeys.length > 0;
  if (sealChecked) {
    let seal: ReceiptsSeal;
    try {
      ({ seal } = verifyReceiptsSeal(file.seal, keyResolverFromKeys(holderKeys)));
    } catch (err) {
      return fail(`the file's seal does not verify with the keys given for ${holder} (${err instanceof McxError ? err.code : 'invalid'})`);
    }
    if (seal.holder !== holder || seal.from !== from || seal.exportedAt !== exportedAt)
      return fail(
        `the file's seal is another file's (${shownMember(seal.holder)}'s receipts from ${shownMember(seal.from)}, read ${shownTime(seal.exportedAt)})`,
      );
    if (seal.receipts !== file.receipts.length || seal.digest !== file.digest)
      return fail(
        `the file was changed after ${holder} sealed it (${seal.receipts} receipts sealed, ${file.receipts.length} here): ask ${holder}'s auditors for it again`,
      );
  }
  const resolve = keyResolverFromKeys(keys);
  const hashes = new Map(current.entries.map((e) => [e.seq, e.hash]));
  const checkpoints = new Set(current.checkpoints);
  // When the export was made: its header's time or its newest checkpoint that verifies, whichever is
  // later (a backdated or unreadable header excuses nothing a signed checkpoint dates).
  let madeAt = isoUtcMs(current.header.exportedAt);
  if (!Number.isFinite(madeAt)) madeAt = Number.NEGATIVE_INFINITY;
  for (const jws of current.checkpoints) {
    try {
      const cp = verifyCheckpoint(jws, resolve);
      const at = isoUtcMs(cp.at);
      if (cp.node === node && Number.isFinite(at)) madeAt = Math.max(madeAt, at);
    } catch {
      // Not one of this node's, under the keys given: verifyExport reports it; it dates nothing here.
    }
  }
  const lastSeq = current.entries.at(-1)?.seq ?? 0;
  const readAt = isoUtcMs(exportedAt);
  let checked = 0;
  let beyond = 0;
  let firstBeyond = Number.POSITIVE_INFINITY;
  const unchecked = (seq: number) => {
    beyond += 1;
    firstBeyond = Math.min(firstBeyond, seq);
  };
  const quoted = new Set<string>();
  for (const [i, jws] of file.receipts.entries()) {
    let receipt: DisclosureReceipt;
    try {
      ({ receipt } = verifyReceipt(jws, resolve));
    } catch (err) {
      const code = err instanceof McxError ? err.code : 'invalid';
      // Malformed: not the fields a receipt has, or a time not written as nodes write one.
      if (code === ReceiptErrorCode.RECEIPT_MALFORMED) return fail(`receipt ${i + 1} is not a receipt as nodes write one (${code})`);
      return fail(`receipt ${i + 1} does not verify with the keys given (${code})`);
    }
    if (receipt.node !== node) return fail(`receipt ${i + 1} was given by ${shownMember(receipt.node)}, not ${node}`);
    if (receipt.to !== holder) return fail(`receipt ${i + 1} was given to ${shownMember(receipt.to)}, not ${holder}`);
    const seq = /^(.+):(\d{1,15})$/.exec(receipt.entry.id);
    if (!seq || seq[1] !== node) return fail(`receipt ${i + 1} names an entry that is not one of ${node}'s`);
    const n = Number(seq[2]);
    // verifyReceipt has refused a time not written as nodes write one; were one to pass, it would count as given before: checked, never excused.
    const at = isoUtcMs(receipt.at);
    if (at > readAt + CLOCK_SKEW_MS) return fail(`receipt ${i + 1} is dated ${shownTime(receipt.at)}, after ${holder} read its receipts`);
    const before = !Number.isFinite(at) || at < madeAt - CLOCK_SKEW_MS;
    const now = hashes.get(n);
    if (now === undefined && !before && n > lastSeq) {
      unchecked(n);
      continue;
    }
    if (now === undefined)
      return fail(`entry seq ${n}, which ${node} gave a receipt for at ${shownTime(receipt.at)}, is no longer in the log (removed)`);
    if (now !== receipt.entry.hash)
      return fail(`entry seq ${n}, which ${node} gave a receipt for at ${shownTime(receipt.at)}, has changed (its hash differs)`);
    if (receipt.checkpoint !== null) {
      // The checkpoint it quoted witnesses the log up to its size: it must agree with the entry there, whoever kept it.
      let cp: { node: string; size: number; headHash: string };
      try {
        cp = verifyCheckpoint(receipt.checkpoint, resolve);
      } catch (err) {
        return fail(`the checkpoint quoted in receipt ${i + 1} does not verify (${err instanceof McxError ? err.code : 'invalid'})`);
      }
      if (cp.node !== node) return fail(`the checkpoint quoted in receipt ${i + 1} is ${shownMember(cp.node)}'s, not ${node}'s`);
      const head = hashes.get(cp.size);
      if (head !== undefined && head !== cp.headHash)
        return fail(
          `entry seq ${cp.size}, which a checkpoint ${node} quoted in its receipt for seq ${n} covers, has changed (its hash differs)`,
        );
      // Given before the export: the checkpoint it quoted must be there too. Given after: one beyond the export is unchecked.
      if (before && (head === undefined || !checkpoints.has(receipt.checkpoint)))
        return fail(
          `a checkpoint ${node} quoted in its receipt for seq ${n} (at ${shownTime(receipt.at)}) is no longer in the log (removed)`,
        );
      if (head !== undefined) quoted.add(receipt.checkpoint);
      else if (cp.size > lastSeq) unchecked(cp.size);
      else return fail(`entry seq ${cp.size}, which a checkpoint ${node} quoted covers, is no longer in the log (removed)`);
    }
    checked += 1;
  }
  const witnessed = `the ${checked} entries and ${quoted.size} checkpoints they witness are all here, unchanged`;
  const unsealed = `the file's seal was not checked, so receipts left out of it would not show: give ${holder}'s audit-checkpoint public key (--holder-key ${holder}=<pem>, or the signed manifest: --manifest with --operator-key)`;
  if (beyond > 0 || checked === 0)
    return {
      status: 'unchecked',
      ok: false,
      report: [
        ...report,
        checked === 0 && beyond === 0
          ? `UNCHECKED against ${holder}'s receipts: there is no receipt to check`
          : `UNCHECKED against ${holder}'s receipts: ${witnessed}, but ${beyond} name entries beyond this export (seq ${firstBeyond} and after), which a tail removed from the log would look like too: fetch the receipts first, then the export, and check again`,
        ...(sealChecked ? [] : [`UNCHECKED against ${holder}'s receipts: ${unsealed}`]),
      ],
    };
  if (!sealChecked)
    return { status: 'unchecked', ok: false, report: [...report, `UNCHECKED against ${holder}'s receipts: ${witnessed}, but ${unsealed}`] };
  if (readAt < Math.max(madeAt, checkedAt) - STALE_MS)
    return {
      status: 'unchecked',
      ok: false,
      report: [
        ...report,
        `UNCHECKED against ${holder}'s receipts: ${witnessed}, but ${holder} read them more than a day before this export was made (or before this check), so what ${node} disclosed to ${holder} since is not witnessed (a tail removed from the log would look the same): fetch the receipts again, then the export, and check again`,
      ],
    };
  return { status: 'ok', ok: true, report: [...report, `ok against ${holder}'s receipts: ${witnessed}`] };
}
