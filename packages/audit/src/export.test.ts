import { describe, expect, it } from 'vitest';

import { toPublicKey } from '@mcx/signing';

import { entryColumns } from './columns.js';
import { EXPORT_FORMAT, parseExport, writeExport } from './export.js';
import { NODE } from './fixtures/audit-log.js';
import { FIXTURE_PUBLIC_PEM, KEYS } from './fixtures/fixture-keys.js';
import { BASE } from './fixtures/tampering.js';
import { thrownCode, thrownError } from './fixtures/thrown-code.js';

const EXPORTED_AT = '2025-03-03T10:00:00.000Z';
const ENTRY_SHAPE =
  'entry must be { type, seq (integer), prevHash, hash, entry (object), columns ({ at, action, actorSubject, actorForce, requestingNode, purpose, caseRef, outcome, recordIds }) }';
const text = writeExport({
  node: NODE,
  exportedAt: EXPORTED_AT,
  publicKey: toPublicKey(KEYS.wmpAudit),
  entries: BASE.rows,
  checkpoints: BASE.checkpoints,
});

describe('export format', () => {
  it('writes a header, entry lines in order, checkpoint lines, then the end line counting them, as JSON Lines', () => {
    const lines = text.split('\n');
    expect(lines).toHaveLength(1 + 12 + 3 + 1 + 1);
    expect(JSON.parse(lines.at(-2) ?? '')).toEqual({ type: 'end', entries: 12, checkpoints: 3 });
    expect(lines.at(-1)).toBe('');
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      type: 'header',
      node: NODE,
      format: EXPORT_FORMAT,
      exportedAt: EXPORTED_AT,
      publicKey: FIXTURE_PUBLIC_PEM.wmpAudit,
    });
    expect(lines[1]?.startsWith('{"type":"entry","seq":1,"prevHash":"0000')).toBe(true);
    expect(JSON.parse(lines[13] ?? '')).toEqual({ type: 'checkpoint', jws: BASE.checkpoints[0] });
  });

  it('parses back exactly what was written, with or without CRLF line ends', () => {
    // Rows without column copies are written with the copies derived from the entry.
    const written = BASE.rows.map((r) => ({ ...r, columns: entryColumns(r.entry) }));
    const parsed = parseExport(text);
    expect(parsed.entries).toEqual(written);
    expect(parsed.checkpoints).toEqual(BASE.checkpoints);
    expect(parsed.header.node).toBe(NODE);
    expect(parseExport(text.replaceAll('\n', '\r\n')).entries).toEqual(written);
    expect(parseExport(text.trimEnd()).checkpoints).toHaveLength(3);
  });

  describe('refuses malformed lines with the line number, never echoing the content', () => {
    const lines = text.trimEnd().split('\n');
    const withLine = (i: number, line: string): string => lines.map((l, j) => (j === i ? line : l)).join('\n');
    const cases: Array<[string, string]> = [
      [withLine(3, '{"type":"entry","seq":3, Olivia Hart'), 'audit export line 4: not JSON'],
      [withLine(3, '[1,2]'), 'audit export line 4: not a JSON object'],
      [withLine(3, '{"type":"entry","seq":"3","prevHash":"","hash":"","entry":{},"columns":{}}'), `audit export line 4: ${ENTRY_SHAPE}`],
      [
        withLine(3, '{"type":"entry","seq":3,"prevHash":"","hash":"","entry":{},"columns":{},"note":"Olivia Hart"}'),
        `audit export line 4: ${ENTRY_SHAPE}`,
      ],
      [withLine(3, '{"type":"entry","seq":3,"prevHash":"","hash":"","entry":{}}'), `audit export line 4: ${ENTRY_SHAPE}`],
      [
        withLine(3, '{"type":"entry","seq":3,"prevHash":"","hash":"","entry":{},"columns":{"purpose":"Olivia Hart"}}'),
        `audit export line 4: ${ENTRY_SHAPE}`,
      ],
      [withLine(3, '{"type":"comment"}'), 'audit export line 4: unknown line type'],
      [withLine(3, lines[0] ?? ''), 'audit export line 4: a second header'],
      [withLine(0, lines[1] ?? ''), 'audit export line 1: the first line must be the header'],
      [withLine(14, lines[12] ?? ''), 'audit export line 15: entry after a checkpoint line'],
      [withLine(14, '{"type":"checkpoint","jws":7}'), 'audit export line 15: checkpoint must be { type, jws }'],
      // Cut short in transfer: whole lines missing from the end, the end line with them.
      [lines.slice(0, 9).join('\n'), 'audit export line 10: no end line: the export was cut short (download it again)'],
      [lines.slice(0, -1).join('\n'), 'audit export line 17: no end line: the export was cut short (download it again)'],
      [
        withLine(16, '{"type":"end","entries":11,"checkpoints":3}'),
        'audit export line 17: the end line must count the 12 entries and 3 checkpoints before it',
      ],
      [
        withLine(16, '{"type":"end","entries":12,"checkpoints":3,"note":"x"}'),
        'audit export line 17: the end line must count the 12 entries and 3 checkpoints before it',
      ],
      [`${text}${lines[14]}`, 'audit export line 18: a line after the end line'],
      [`${lines.slice(0, 5).join('\n')}\n\n${lines.slice(5).join('\n')}`, 'audit export line 6: not JSON'],
      ['', 'audit export line 1: empty export: no header'],
    ];
    it.each(cases.map(([input, message], row) => [row + 1, message, input] as const))('case %i: %s', (_row, message, input) => {
      const error = thrownError(() => parseExport(input));
      expect(error.code).toBe('EXPORT_MALFORMED');
      expect(error.message).toBe(message);
      expect(error.message).not.toMatch(/Olivia/);
    });

    it('reads a byte-order mark and blank lines at the end as nothing, but not a line after them', () => {
      expect(parseExport(`\uFEFF${text}\n\r\n`)).toEqual(parseExport(text));
      expect(thrownError(() => parseExport(`${text}\n${lines[14]}`)).message).toBe('audit export line 18: a line after the end line');
    });

    it('a header of another format version is EXPORT_UNSUPPORTED_FORMAT', () => {
      expect(thrownCode(() => parseExport(withLine(0, (lines[0] ?? '').replace(EXPORT_FORMAT, 'mcx-audit-export/4'))))).toBe(
        'EXPORT_UNSUPPORTED_FORMAT',
      );
    });
  });

  it("writes mcx-audit-export/3 with each row's column copies and an end line, and still reads /2 (no end line) and /1 exports (entries without columns)", () => {
    expect(EXPORT_FORMAT).toBe('mcx-audit-export/3');
    const v2 = text
      .trimEnd()
      .split('\n')
      .slice(0, -1)
      .map((l, i) => (i === 0 ? l.replace(EXPORT_FORMAT, 'mcx-audit-export/2') : l))
      .join('\n');
    expect(parseExport(v2).entries).toEqual(parseExport(text).entries);
    // An end line belongs to /3 only.
    expect(thrownError(() => parseExport(`${v2}\n${text.trimEnd().split('\n').at(-1)}`)).message).toBe(
      'audit export line 17: unknown line type',
    );
    const line = JSON.parse(text.split('\n')[5] ?? '') as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['type', 'seq', 'prevHash', 'hash', 'entry', 'columns']);
    expect(line.columns).toEqual(entryColumns(BASE.rows[4]!.entry));
    // What the node stored is exported as stored, even when it differs from the entry.
    const stored = BASE.rows.map((r) => ({
      ...r,
      columns: { ...entryColumns(r.entry), purpose: r.seq === 2 ? 'MISSING_REVIEW' : r.entry.purpose },
    }));
    const exported = parseExport(
      writeExport({ node: NODE, exportedAt: EXPORTED_AT, publicKey: toPublicKey(KEYS.wmpAudit), entries: stored, checkpoints: [] }),
    );
    expect(exported.entries[1]?.columns?.purpose).toBe('MISSING_REVIEW');

    const v1 = text
      .trimEnd()
      .split('\n')
      .map((l, i) => {
        const value = JSON.parse(l) as Record<string, unknown>;
        if (i === 0) return JSON.stringify({ ...value, format: 'mcx-audit-export/1' });
        if (value.type === 'end') return null;
        if (value.type !== 'entry') return l;
        const { columns: _columns, ...rest } = value;
        return JSON.stringify(rest);
      })
      .filter((l) => l !== null)
      .join('\n');
    const parsed = parseExport(v1);
    expect(parsed.header.format).toBe('mcx-audit-export/1');
    expect(parsed.entries).toEqual(BASE.rows);
    expect(thrownCode(() => parseExport(v1.replace('"entry":{', '"columns":{},"entry":{')))).toBe('EXPORT_MALFORMED');
  });
});
