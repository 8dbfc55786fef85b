import { describe, expect, it } from 'vitest';

import { signCheckpoint, toPublicKey, verifyCheckpoint } from '@mcx/signing';

import { EXPORT_FORMAT, exportEndLine, writeExport } from './export.js';
import { NODE } from './fixtures/audit-log.js';
import { FIXTURE_PEMS, FIXTURE_PUBLIC_PEM, KEYS } from './fixtures/fixture-keys.js';
import { BASE, TAMPER_CASES } from './fixtures/tampering.js';
import { thrownCode } from './fixtures/thrown-code.js';
import { verifyExport } from './verify-export.js';

const PEM = FIXTURE_PUBLIC_PEM.wmpAudit;
const HEADLINE = 'audit export of WMP (mcx-audit-export/3), exported 2025-03-03T10:00:00.000Z';

function exportOf(checkpoints: string[] = BASE.checkpoints, madeUnder = KEYS.wmpAudit): string {
  const publicKey = toPublicKey(madeUnder);
  return writeExport({ node: NODE, exportedAt: '2025-03-03T10:00:00.000Z', publicKey, entries: BASE.rows, checkpoints });
}

/**
 * The export of a log tampered with in the database, as the node writes it: `fn` edits the header,
 * entry and checkpoint lines, and the end line counts what is left (a file cut in transfer is
 * export.test.ts's case).
 */
const edit = (text: string, fn: (lines: string[]) => string[]): string => {
  const lines = fn(text.trimEnd().split('\n').slice(0, -1));
  const count = (type: string) => lines.filter((l) => l.startsWith(`{"type":"${type}"`)).length;
  const end = lines[0]?.includes(EXPORT_FORMAT) ? [exportEndLine(count('entry'), count('checkpoint'))] : [];
  return `${[...lines, ...end].join('\n')}\n`;
};

describe('verifyExport (the command-line verifier core)', () => {
  it('verifies an untampered export, checkpointed at the head, with only the public key PEM', () => {
    const result = verifyExport(exportOf(), PEM);
    expect(result).toMatchObject({ ok: true, status: 'ok', verifiedThrough: 12, unverifiedAfter: 0, checkpointsChecked: 3, node: NODE });
    expect(result.report).toEqual([`${HEADLINE}: 12 entries, 3 checkpoints`, 'ok through seq 12', 'result: OK']);
  });

  it('reports entries after the last checkpoint as UNVERIFIED, not ok', () => {
    const result = verifyExport(exportOf(BASE.checkpoints.slice(0, 2)), PEM);
    expect(result.ok).toBe(false);
    expect(result.report).toEqual([
      `${HEADLINE}: 12 entries, 2 checkpoints`,
      'ok through seq 8',
      'UNVERIFIED: 4 entries after the last checkpoint (seq 9 to 12)',
      'result: UNVERIFIED',
    ]);
    expect(verifyExport(exportOf([]), PEM).report.slice(1)).toEqual([
      'UNVERIFIED: 12 entries after the last checkpoint (seq 1 to 12)',
      'result: UNVERIFIED',
    ]);
  });

  for (const c of TAMPER_CASES) {
    it(`detects ${c.name} in the export text: FAILED at seq ${c.expected.seq}`, () => {
      const result = verifyExport(edit(exportOf(), c.lines), PEM);
      expect(result.ok).toBe(false);
      expect({ seq: result.firstBad?.seq, reason: result.firstBad?.reason }).toEqual({ seq: c.expected.seq, reason: c.expected.reason });
      expect(result.verifiedThrough).toBe(c.expected.verifiedThrough);
      const failed = result.report.find((line) => line.startsWith('FAILED'));
      expect(failed?.startsWith(`FAILED at seq ${c.expected.seq}: ${c.expected.reason}: `)).toBe(true);
      expect(result.report.at(-1)).toBe('result: FAILED');
      expect(result.report).not.toContainEqual(expect.stringMatching(/^UNVERIFIED/));
    });
  }

  it('explains a checkpoint mismatch as a range, since hashes alone cannot say which entry changed', () => {
    const rewrite = TAMPER_CASES.find((c) => c.name.startsWith('row 5 rewritten and every later hash'));
    const result = verifyExport(edit(exportOf(), rewrite?.lines ?? ((l) => l)), PEM);
    expect(result.report).toEqual([
      `${HEADLINE}: 12 entries, 3 checkpoints`,
      'ok through seq 4',
      'FAILED at seq 8: CHECKPOINT_MISMATCH: the head hash differs from the signed checkpoint: an entry from seq 5 to 8 was altered, inserted or deleted, and the hashes after it recomputed',
      'result: FAILED',
    ]);
  });

  it('names the stored column that differs from the hashed entry, never its value', () => {
    const edited = edit(exportOf(), (lines) =>
      lines.map((l, i) => {
        if (i !== 6) return l;
        const line = JSON.parse(l) as { columns: Record<string, unknown> };
        return JSON.stringify({ ...line, columns: { ...line.columns, recordIds: ['rec-999'] } });
      }),
    );
    const result = verifyExport(edited, PEM);
    expect(result.firstBad).toEqual({ seq: 6, reason: 'COLUMN_MISMATCH', column: 'recordIds' });
    expect(result.report).toEqual([
      `${HEADLINE}: 12 entries, 3 checkpoints`,
      'ok through seq 4',
      'FAILED at seq 6: COLUMN_MISMATCH: the stored recordIds column differs from the hashed entry: the row was edited outside the chain, so a filter or a query reading that column is misled',
      'result: FAILED',
    ]);
    expect(result.report.join('\n')).not.toContain('rec-999');
  });

  it('verifies a mcx-audit-export/1 export (no columns), and says the columns were not checked', () => {
    const v1 = edit(exportOf(), (lines) =>
      lines.map((l, i) => {
        const value = JSON.parse(l) as Record<string, unknown>;
        if (i === 0) return JSON.stringify({ ...value, format: 'mcx-audit-export/1' });
        if (value.type !== 'entry') return l;
        const { columns: _columns, ...rest } = value;
        return JSON.stringify(rest);
      }),
    );
    const result = verifyExport(v1, PEM);
    expect(result.ok).toBe(true);
    expect(result.report[1]).toBe('note: a mcx-audit-export/1 export holds no stored columns; only the hashed entries are checked');
  });

  it('trusts only the key given: another key fails, and a swapped header key is only noted', () => {
    const rogue = verifyExport(exportOf(), FIXTURE_PUBLIC_PEM.rogueAudit);
    expect(rogue.firstBad).toMatchObject({ reason: 'CHECKPOINT_UNKNOWN_KEY' });
    expect(rogue.report[1]).toBe("note: the export header's publicKey differs from the keys given; only the keys given are trusted");
    const swapped = edit(exportOf(), (lines) =>
      lines.map((l, i) =>
        i === 0 ? l.replace(JSON.stringify(PEM).slice(1, -1), JSON.stringify(FIXTURE_PUBLIC_PEM.rogueAudit).slice(1, -1)) : l,
      ),
    );
    const result = verifyExport(swapped, PEM);
    expect(result.ok).toBe(true);
    expect(result.report[1]).toMatch(/^note: the export header's publicKey differs/);
  });

  it('after a rotation of the audit key, verifies each checkpoint with the key its kid names, given the current and the retired keys', () => {
    // The last checkpoint signed by the new key (here the fixture's second key), the two before by the retired one.
    const last = verifyCheckpoint(BASE.checkpoints[2]!, toPublicKey(KEYS.wmpAudit));
    const rotated = exportOf([...BASE.checkpoints.slice(0, 2), signCheckpoint(last, KEYS.rogueAudit)], KEYS.rogueAudit);
    const both = `${FIXTURE_PUBLIC_PEM.rogueAudit}${FIXTURE_PUBLIC_PEM.wmpAudit}`;
    expect(verifyExport(rotated, both)).toMatchObject({ status: 'ok', verifiedThrough: 12, checkpointsChecked: 3 });
    // The keys in another order (the retired one taken as current): never OK, and the report says why.
    const misordered = verifyExport(rotated, `${FIXTURE_PUBLIC_PEM.wmpAudit}${FIXTURE_PUBLIC_PEM.rogueAudit}`);
    expect(misordered.status).toBe('unverified');
    expect(misordered.report).toContainEqual(
      expect.stringMatching(/^UNVERIFIED: the export was made under key .+, which is given but not first/),
    );
    // The new key alone: the retired key's checkpoints are under an unknown key, and the report says what to give.
    const newOnly = verifyExport(rotated, FIXTURE_PUBLIC_PEM.rogueAudit);
    expect(newOnly.firstBad).toEqual({ seq: 4, reason: 'CHECKPOINT_UNKNOWN_KEY', checkpoint: 0 });
    expect(newOnly.report).toContainEqual(expect.stringMatching(/give the retired keys too/));
    // The retired key alone: the new checkpoint fails, and nothing after seq 8 is ok.
    expect(verifyExport(rotated, PEM)).toMatchObject({ status: 'failed', verifiedThrough: 8, firstBad: { seq: 12 } });
    // A private key anywhere in the text is refused, as for one key, and so is anything else beside the keys.
    expect(thrownCode(() => verifyExport(rotated, `${PEM}${FIXTURE_PEMS.rogueAudit}\n`))).toBe('KEY_INVALID');
    const legacy =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    expect(thrownCode(() => verifyExport(rotated, `${both}${legacy}`))).toBe('KEY_INVALID');
    expect(thrownCode(() => verifyExport(rotated, `${both}and this one too\n`))).toBe('KEY_INVALID');
  });

  it('a retired key vouches for nothing past the first checkpoint under the current key: one it signed there is not counted', () => {
    // Rotated after entry 4: the current key signed at 8. A checkpoint at 12 under the retired key
    // can only have been made with the old key taken from its file (here: as if over a rewritten tail).
    const [at4, at8, at12] = BASE.checkpoints as [string, string, string];
    const rotated = exportOf(
      [at4, signCheckpoint(verifyCheckpoint(at8, toPublicKey(KEYS.wmpAudit)), KEYS.rogueAudit), at12],
      KEYS.rogueAudit,
    );
    const result = verifyExport(rotated, `${FIXTURE_PUBLIC_PEM.rogueAudit}${FIXTURE_PUBLIC_PEM.wmpAudit}`);
    expect(result).toMatchObject({ status: 'unverified', verifiedThrough: 8, unverifiedAfter: 4, checkpointsChecked: 2 });
    expect(result.report).toContainEqual(expect.stringMatching(/^note: 1 checkpoints under a retired key were not counted/));
    // With no checkpoint under the current key, a retired key's count for nothing.
    const none = verifyExport(exportOf(BASE.checkpoints), `${FIXTURE_PUBLIC_PEM.rogueAudit}${FIXTURE_PUBLIC_PEM.wmpAudit}`);
    expect(none).toMatchObject({ status: 'unverified', verifiedThrough: 0, checkpointsChecked: 0 });
    // A failure is still named on its own line of the export (the index in the file, not among those counted).
    const bad = exportOf(
      [at4, 'x.y.z', signCheckpoint(verifyCheckpoint(at8, toPublicKey(KEYS.wmpAudit)), KEYS.rogueAudit), at12],
      KEYS.rogueAudit,
    );
    const failed = verifyExport(bad, `${FIXTURE_PUBLIC_PEM.rogueAudit}${FIXTURE_PUBLIC_PEM.wmpAudit}`);
    expect(failed.firstBad).toMatchObject({ reason: 'CHECKPOINT_MALFORMED', checkpoint: 1 });
  });

  it('checks that checkpoints name the node of the header', () => {
    const relabelled = edit(exportOf(), (lines) => lines.map((l, i) => (i === 0 ? l.replace('"node":"WMP"', '"node":"GMP"') : l)));
    expect(verifyExport(relabelled, PEM).firstBad).toEqual({ seq: 4, reason: 'CHECKPOINT_WRONG_NODE', checkpoint: 0 });
  });

  it('throws on an unusable key or a malformed export, rather than reporting', () => {
    expect(thrownCode(() => verifyExport(exportOf(), 'not a key'))).toBe('KEY_INVALID');
    expect(thrownCode(() => verifyExport('{}\n', PEM))).toBe('EXPORT_MALFORMED');
  });
});
