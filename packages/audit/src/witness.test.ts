import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  generateSigningKey,
  isoUtcMs,
  RECEIPT_TYP,
  receiptsDigest,
  signReceipt,
  signReceiptsSeal,
  toPublicKey,
} from '@mcx/signing';
import { craftJws } from '@mcx/signing/testing';

import { chainEntries, type StoredEntry } from './chain.js';
import { makeCheckpoint } from './checkpoint.js';
import { parseExport, writeExport } from './export.js';
import { fixtureEntry, fixtureLog, NODE, T0 } from './fixtures/audit-log.js';
import { KEYS } from './fixtures/fixture-keys.js';
import { compareWithReceipts, parseReceiptsFile, receiptLine, receiptsEndLine, receiptsHeaderLine } from './witness.js';

const EXPORTED_AT = '2025-03-03T10:00:00.000Z';
const exported = (log: { rows: StoredEntry[]; checkpoints: string[] }, node = NODE, exportedAt = EXPORTED_AT) =>
  parseExport(writeExport({ node, exportedAt, publicKey: toPublicKey(KEYS.wmpAudit), entries: log.rows, checkpoints: log.checkpoints }));
const keys = [toPublicKey(KEYS.wmpAudit)];

// WMP's log: 12 entries, checkpoints at 4, 8 and 12 (the last one over the export's own entry, as
// the node signs it). GMP holds a receipt for entries 3, 6 and 10, each quoting WMP's latest
// checkpoint then (none, 4, 8), given a minute after the entry.
const log = fixtureLog(12, [4, 8, 12]);
function receipt(
  seq: number,
  over: { node?: string; to?: string; at?: string; hash?: string; key?: typeof KEYS.wmpAudit; checkpoint?: string | null } = {},
) {
  const checkpoint =
    over.checkpoint !== undefined ? over.checkpoint : seq >= 8 ? log.checkpoints[1]! : seq >= 4 ? log.checkpoints[0]! : null;
  const receipt = {
    node: over.node ?? NODE,
    to: over.to ?? 'GMP',
    jti: `jti-${seq}`,
    callerEntry: `GMP:${100 + seq}`,
    entry: { id: `${over.node ?? NODE}:${seq}`, hash: over.hash ?? log.rows[seq - 1]?.hash ?? 'f'.repeat(64) },
    checkpoint,
    at: over.at ?? new Date(T0 + seq * 60_000).toISOString(),
  };
  const key = over.key ?? KEYS.wmpAudit;
  // signReceipt refuses a time not written as nodes write one: such a receipt is signed as a node bent on it would.
  return Number.isFinite(isoUtcMs(receipt.at))
    ? signReceipt(receipt, key)
    : craftJws({ alg: 'EdDSA', kid: key.kid, typ: RECEIPT_TYP }, canonicalJson(receipt), key.privateKey);
}
// GMP, the holder, seals the file it hands over with its own audit-checkpoint key.
const gmpAudit = generateSigningKey('audit-checkpoint');
const holderKeys = [toPublicKey(gmpAudit)];
const READ_AT = '2025-03-04T08:00:00.000Z';
/** A receipts file as GMP writes it, sealed over `sealed` (the receipts it read; by default the ones in the file). */
function file(jws: string[], end = jws.length, sealed = jws, key = gmpAudit) {
  const header = receiptsHeaderLine({ holder: 'GMP', from: NODE, exportedAt: READ_AT });
  const digest = receiptsDigest();
  for (const line of [header, ...sealed.map(receiptLine)]) digest.add(line);
  const seal = signReceiptsSeal({ holder: 'GMP', from: NODE, exportedAt: READ_AT, receipts: sealed.length, digest: digest.digest() }, key);
  return [header, ...jws.map(receiptLine), receiptsEndLine(end, seal)].join('\n') + '\n';
}
const held = [receipt(3), receipt(6), receipt(10)];
/** The check run an hour after GMP read its receipts (unless `now` says otherwise). */
const NOW = Date.parse('2025-03-04T09:00:00.000Z');
const compare = (text: string, current = exported(log), hk = holderKeys, now = NOW) =>
  compareWithReceipts(parseReceiptsFile(text), current, keys, hk, now);
const last = (jws: string[], current = exported(log)) => compare(file(jws), current).report.at(-1);

describe('compareWithReceipts', () => {
  it("passes a whole log: every receipt's entry and quoted checkpoint are there", () => {
    const result = compare(file(held), exported(log));
    expect(result).toMatchObject({ status: 'ok', ok: true });
    expect(result.report).toEqual([
      'receipts GMP holds from WMP, read 2025-03-04T08:00:00.000Z: 3',
      "ok against GMP's receipts: the 3 entries and 2 checkpoints they witness are all here, unchanged",
    ]);
  });

  it('a receipt for an entry beyond the export, given after it, leaves the check unchecked, never ok: a removed tail would look the same', () => {
    // Entry 13 and its receipt came after the export was made: honest, but nothing shows that the times are.
    const later = receipt(13, { at: '2025-03-03T10:00:00.000Z' });
    const result = compare(file([...held, later]), exported(log));
    expect(result).toMatchObject({ status: 'unchecked', ok: false });
    expect(result.report.at(-1)).toBe(
      "UNCHECKED against GMP's receipts: the 3 entries and 2 checkpoints they witness are all here, unchanged, but 1 name entries beyond this export (seq 13 and after), which a tail removed from the log would look like too: fetch the receipts first, then the export, and check again",
    );
    // A node whose clock was set back signs its own times early: its removed tail is only ever unchecked too.
    const cut = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) }, NODE, '2025-03-03T09:08:30.000Z');
    expect(compare(file(held), cut).status).toBe('unchecked');
    // No receipt at all witnesses nothing.
    expect(compare(file([]), exported(log)).report.at(-1)).toBe("UNCHECKED against GMP's receipts: there is no receipt to check");
  });

  it('a receipt whose time is not written as nodes write one fails, never excused', () => {
    const cut = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) });
    for (const at of ['later', '2025-03-03 09:10:00', '2025-03-03T09:10:00+01:00'])
      expect(last([receipt(10, { at })], cut)).toBe(
        "FAILED against GMP's receipts: receipt 1 is not a receipt as nodes write one (RECEIPT_MALFORMED)",
      );
  });

  it('fails a tail removed with the checkpoints over it, which the file alone verifies as a whole, shorter log', () => {
    // Entries 9 on and the checkpoint at 12 gone: what is left is a whole log of 8 with its checkpoints at 4 and 8.
    const cut = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) });
    const removed =
      "FAILED against GMP's receipts: entry seq 10, which WMP gave a receipt for at 2025-03-03T09:10:00.000Z, is no longer in the log (removed)";
    expect(last(held, cut)).toBe(removed);
    // Signed again over what is left (a new entry 9, a checkpoint over it at 09:59), with the header backdated
    // to before every receipt: the signed checkpoint still dates them, and seq 10 is still missed.
    const appended = [...log.rows.slice(0, 8), ...chainEntries(log.rows[7]!, [fixtureEntry(109)])];
    const resigned = makeCheckpoint(NODE, appended[8]!, '2025-03-03T09:59:00.000Z', KEYS.wmpAudit);
    const backdated = exported(
      { rows: appended, checkpoints: [...log.checkpoints.slice(0, 2), resigned] },
      NODE,
      '2025-03-03T09:00:00.000Z',
    );
    expect(last(held, backdated)).toBe(removed);
  });

  it('fails a checkpoint a receipt quoted that is gone, though every entry is there', () => {
    const unsigned = exported({ rows: log.rows, checkpoints: [log.checkpoints[0]!, log.checkpoints[2]!] });
    expect(last(held, unsigned)).toBe(
      "FAILED against GMP's receipts: a checkpoint WMP quoted in its receipt for seq 10 (at 2025-03-03T09:10:00.000Z) is no longer in the log (removed)",
    );
  });

  it('fails a stretch rewritten and chained again: the entry a receipt names has another hash', () => {
    const kept = log.rows.slice(0, 5);
    const rewritten = [
      ...kept,
      ...chainEntries(kept.at(-1)!, [fixtureEntry(6, { caseRef: 'WMP-25-9999' }), ...[7, 8, 9, 10, 11, 12].map((n) => fixtureEntry(n))]),
    ];
    expect(last(held, exported({ rows: rewritten, checkpoints: log.checkpoints }))).toBe(
      "FAILED against GMP's receipts: entry seq 6, which WMP gave a receipt for at 2025-03-03T09:06:00.000Z, has changed (its hash differs)",
    );
  });

  it('the checkpoint a receipt quoted witnesses the log up to its size, whoever kept it, and whenever the receipt was given', () => {
    // A busy node: entry 6's receipt, given at 09:08:30, quotes the checkpoint over 8.
    const r6 = receipt(6, { at: '2025-03-03T09:08:30.000Z', checkpoint: log.checkpoints[1]! });
    // Entries 7 on removed with the checkpoints over them, the header set to 09:08 so that the receipt looks later than the export.
    const cut = exported({ rows: log.rows.slice(0, 6), checkpoints: [log.checkpoints[0]!] }, NODE, '2025-03-03T09:08:00.000Z');
    expect(compare(file([r6]), cut).status).toBe('unchecked');
    // With the header as the node wrote it, the receipt is older than the export: the checkpoint is missed.
    expect(last([r6], exported({ rows: log.rows.slice(0, 6), checkpoints: [log.checkpoints[0]!] }))).toBe(
      "FAILED against GMP's receipts: a checkpoint WMP quoted in its receipt for seq 6 (at 2025-03-03T09:08:30.000Z) is no longer in the log (removed)",
    );
    // Re-chained from 7 on: the checkpoint over 8 no longer agrees with the entry there, however its receipt is dated.
    const rechained = [
      ...log.rows.slice(0, 6),
      ...chainEntries(
        log.rows[5]!,
        [7, 8, 9].map((n) => fixtureEntry(n, { caseRef: 'WMP-25-8888' })),
      ),
    ];
    expect(last([r6], exported({ rows: rechained, checkpoints: [log.checkpoints[0]!] }, NODE, '2025-03-03T09:08:00.000Z'))).toBe(
      "FAILED against GMP's receipts: entry seq 8, which a checkpoint WMP quoted in its receipt for seq 6 covers, has changed (its hash differs)",
    );
  });

  it('clocks a few minutes apart raise no false alarm, and a receipt dated after the holder read its receipts is refused', () => {
    // The export's last checkpoint signed by a replica 4 minutes fast; entry 13's receipt given a minute after the export.
    const fast = makeCheckpoint(NODE, log.rows[11]!, '2025-03-03T10:04:00.000Z', KEYS.wmpAudit);
    const honest = exported({ rows: log.rows, checkpoints: [...log.checkpoints.slice(0, 2), fast] });
    const later = receipt(13, { at: '2025-03-03T10:01:00.000Z', checkpoint: fast });
    expect(compare(file([...held, later]), honest).status).toBe('unchecked');
    expect(last([receipt(3, { at: '2025-03-04T09:00:00.000Z' })])).toBe(
      "FAILED against GMP's receipts: receipt 1 is dated 2025-03-04T09:00:00.000Z, after GMP read its receipts",
    );
  });

  it("fails a receipt signed by another key, given by another node or to another member, and another node's export", () => {
    expect(last([receipt(3, { key: KEYS.rogueAudit })])).toBe(
      "FAILED against GMP's receipts: receipt 1 does not verify with the keys given (RECEIPT_UNKNOWN_KEY)",
    );
    expect(last([receipt(6), receipt(3, { node: 'MPS' })])).toBe("FAILED against GMP's receipts: receipt 2 was given by MPS, not WMP");
    expect(last([receipt(3, { to: 'MPS' })])).toBe("FAILED against GMP's receipts: receipt 1 was given to MPS, not GMP");
    expect(last(held, exported(log, 'MPS'))).toBe(
      "FAILED against GMP's receipts: they are receipts WMP gave, and this is an export of MPS",
    );
  });

  it("the holder's seal shows a receipt left out of the file, or a file sealed by another key; without the holder's key the file is never ok", () => {
    // WMP removed entries 9 to 12 and the checkpoints over them, and whoever carried GMP's file left out the receipt for 10.
    const cut = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) });
    const trimmed = file(held.slice(0, 2), 2, held);
    expect(compare(trimmed, cut, [])).toMatchObject({ status: 'unchecked', ok: false });
    expect(compare(trimmed, cut, []).report.at(-1)).toBe(
      "UNCHECKED against GMP's receipts: the 2 entries and 1 checkpoints they witness are all here, unchanged, but the file's seal was not checked, so receipts left out of it would not show: give GMP's audit-checkpoint public key (--holder-key GMP=<pem>, or the signed manifest: --manifest with --operator-key)",
    );
    expect(compare(trimmed, cut).report.at(-1)).toBe(
      "FAILED against GMP's receipts: the file was changed after GMP sealed it (3 receipts sealed, 2 here): ask GMP's auditors for it again",
    );
    // A receipt swapped for another of the same count changes the digest.
    expect(compare(file([held[0]!, held[1]!, receipt(10, { at: new Date(T0 + 11 * 60_000).toISOString() })], 3, held)).status).toBe(
      'failed',
    );
    // Re-sealed by someone else (the rogue, or the node itself): not the holder's key.
    expect(compare(file(held.slice(0, 2), 2, held.slice(0, 2), KEYS.rogueAudit), cut).report.at(-1)).toBe(
      "FAILED against GMP's receipts: the file's seal does not verify with the keys given for GMP (RECEIPT_UNKNOWN_KEY)",
    );
    // Another file's seal (MPS's receipts) copied onto this one.
    const other = file(held).replace(
      /"seal":"[^"]+"/,
      `"seal":"${signReceiptsSeal({ holder: 'MPS', from: NODE, exportedAt: READ_AT, receipts: 3, digest: parseReceiptsFile(file(held)).digest }, gmpAudit)}"`,
    );
    expect(compare(other).report.at(-1)).toBe(
      "FAILED against GMP's receipts: the file's seal is another file's (MPS's receipts from WMP, read 2025-03-04T08:00:00.000Z)",
    );
    // Line endings changed on the way (a copy through another system) do not break the seal: it is over the lines.
    expect(compare(file(held).replaceAll('\n', '\r\n')).status).toBe('ok');
    // No receipt, and no holder key: both said.
    expect(compare(file([]), exported(log), []).report.slice(1)).toEqual([
      "UNCHECKED against GMP's receipts: there is no receipt to check",
      "UNCHECKED against GMP's receipts: the file's seal was not checked, so receipts left out of it would not show: give GMP's audit-checkpoint public key (--holder-key GMP=<pem>, or the signed manifest: --manifest with --operator-key)",
    ]);
  });

  it("a key given for the holder that is the node's own, a file read long before the export, and text a receipt carries into the report", () => {
    const cut = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) });
    // WMP re-seals GMP's file without the receipt for 10; the key file given for GMP also holds WMP's key.
    expect(compare(file(held.slice(0, 2), 2, held.slice(0, 2), KEYS.wmpAudit), cut, [...holderKeys, ...keys]).report.at(-1)).toBe(
      "FAILED against GMP's receipts: a key given for GMP is one of WMP's own (--public-key): WMP cannot seal the receipts that witness it",
    );
    // A file that holds WMP's receipts to itself is refused as it is read.
    const self = file(held).replace('"holder":"GMP"', '"holder":"WMP"');
    expect(() => parseReceiptsFile(self)).toThrow(/two different member codes/);
    // GMP's genuine file from an earlier round (read before entry 10 existed) handed over again: never ok.
    const early = (READ = '2025-03-03T09:30:00.000Z') => {
      const header = receiptsHeaderLine({ holder: 'GMP', from: NODE, exportedAt: READ });
      const digest = receiptsDigest();
      for (const line of [header, ...held.slice(0, 1).map(receiptLine)]) digest.add(line);
      const seal = signReceiptsSeal({ holder: 'GMP', from: NODE, exportedAt: READ, receipts: 1, digest: digest.digest() }, gmpAudit);
      return [header, receiptLine(held[0]!), receiptsEndLine(1, seal)].join('\n') + '\n';
    };
    const later = exported({ rows: log.rows.slice(0, 8), checkpoints: log.checkpoints.slice(0, 2) }, NODE, '2025-03-05T10:00:00.000Z');
    const stale = compare(early(), later, holderKeys, Date.parse('2025-03-05T10:30:00.000Z'));
    expect(stale.status).toBe('unchecked');
    expect(stale.report.at(-1)).toBe(
      "UNCHECKED against GMP's receipts: the 1 entries and 0 checkpoints they witness are all here, unchanged, but GMP read them more than a day before this export was made (or before this check), so what WMP disclosed to GMP since is not witnessed (a tail removed from the log would look the same): fetch the receipts again, then the export, and check again",
    );
    // Read the morning the export was made: checked as usual.
    expect(compare(early('2025-03-05T09:00:00.000Z'), later, holderKeys, Date.parse('2025-03-05T10:30:00.000Z')).status).toBe('ok');
    // The genuine file of this morning, checked again a week later against the same export: never ok either.
    expect(compare(file(held), exported(log), holderKeys, NOW + 7 * 86400_000).status).toBe('unchecked');
    // What a receipt states is printed only as a time or a member code: never a control sequence.
    const report = compare(file([receipt(10, { at: 'Mon Mar 03 2025 09:10:00 GMT+0000 (\u001b[2K ok)' })]), cut).report.join('\n');
    expect(report).toContain('receipt 1 is not a receipt as nodes write one (RECEIPT_MALFORMED)');
    expect(report).not.toContain('\u001b');
    expect(compare(file([receipt(3, { to: 'GMP\u001b[2K' })])).report.at(-1)).toBe(
      "FAILED against GMP's receipts: receipt 1 was given to something that is not a member code, not GMP",
    );
  });

  it('a receipts file cut short, or with a wrong count, is refused, never read as fewer receipts', () => {
    const whole = file(held);
    expect(parseReceiptsFile(whole).receipts).toHaveLength(3);
    expect(parseReceiptsFile(`\uFEFF${whole}\n\n`).receipts).toHaveLength(3);
    const cut = whole.split('\n').slice(0, 3).join('\n');
    expect(() => parseReceiptsFile(cut)).toThrow(/no end line: the file was cut short/);
    expect(() => parseReceiptsFile(file(held, 2))).toThrow(/the end line must count the 3 receipts before it, and carry the seal/);
    expect(() => parseReceiptsFile(whole.replace(/,"seal":"[^"]+"/, ''))).toThrow(/carry the seal/);
    expect(() => parseReceiptsFile(whole.replace(/"seal":"[^"]+"/, '"seal":1'))).toThrow(/the end line's seal must be/);
    expect(() => parseReceiptsFile(`${whole}${receiptLine(held[0]!)}\n`)).toThrow(/a line after the end line/);
    expect(() => parseReceiptsFile(whole.replace('mcx-audit-receipts/2', 'mcx-audit-receipts/9'))).toThrow(
      /the first line must be the header/,
    );
    // Nothing of the file's choosing is printed: the holder and node are member codes, the time is a time.
    expect(() => parseReceiptsFile(whole.replace('"holder":"GMP"', '"holder":"GMP\\u001b[2K ok"'))).toThrow(/member codes/);
    expect(() => parseReceiptsFile(whole.replace('2025-03-04T08:00:00.000Z', 'x'))).toThrow(/ISO 8601/);
    const text = writeExport({
      node: NODE,
      exportedAt: EXPORTED_AT,
      publicKey: toPublicKey(KEYS.wmpAudit),
      entries: log.rows,
      checkpoints: [],
    });
    expect(() => parseExport(text.replace(EXPORTED_AT, 'x'))).toThrow(/exportedAt \(ISO 8601, UTC\)/);
    expect(() => parseExport(text.replace('"node":"WMP"', '"node":"WMP\\n ok"'))).toThrow(/node \(a member code\)/);
  });
});
