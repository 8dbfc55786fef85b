import { describe, expect, it } from 'vitest';

import { toPublicKey } from '@mcx/signing';

import { chainEntries } from './chain.js';
import { parseExport, writeExport } from './export.js';
import { fixtureEntry, fixtureLog, NODE } from './fixtures/audit-log.js';
import { KEYS } from './fixtures/fixture-keys.js';
import { compareWithPrevious } from './previous.js';

const exported = (log: { rows: Parameters<typeof writeExport>[0]['entries']; checkpoints: string[] }, node = NODE) =>
  parseExport(
    writeExport({
      node,
      exportedAt: '2025-03-03T10:00:00.000Z',
      publicKey: toPublicKey(KEYS.wmpAudit),
      entries: log.rows,
      checkpoints: log.checkpoints,
    }),
  );

// Kept by the auditor: 8 entries, checkpoints at 4 and 8. The log has grown to 12 since.
const previous = exported(fixtureLog(8, [4, 8]));
const grown = fixtureLog(12, [4, 8, 12]);

describe('compareWithPrevious', () => {
  it('passes a log that has only grown: every entry and checkpoint of the older export still there, unchanged', () => {
    const result = compareWithPrevious(previous, exported(grown));
    expect(result.ok).toBe(true);
    expect(result.report.at(-1)).toBe('ok against the previous export: its 8 entries and 2 checkpoints are all here, unchanged');
  });

  it('fails a tail removed with the checkpoints over it, which the newer file alone verifies as whole', () => {
    // Entries 7 on and the checkpoint at 8 removed; the node has appended and signed again since (new 7 to 9, checkpoint at 9).
    const kept = grown.rows.slice(0, 6);
    const appended = chainEntries(kept.at(-1)!, [fixtureEntry(107), fixtureEntry(108), fixtureEntry(109)]);
    const shortened = fixtureLog(6, [4]);
    const current = exported({ rows: [...kept, ...appended], checkpoints: [...shortened.checkpoints] });
    const result = compareWithPrevious(previous, current);
    expect(result.ok).toBe(false);
    expect(result.report.at(-1)).toBe('FAILED against the previous export: entry seq 7 has changed since (its hash differs)');
    const cut = compareWithPrevious(previous, exported({ rows: kept, checkpoints: shortened.checkpoints }));
    expect(cut.report.at(-1)).toBe('FAILED against the previous export: entry seq 7 is no longer in the log (removed since)');
  });

  it('fails a checkpoint removed since, though every entry is there', () => {
    const current = exported({ rows: grown.rows, checkpoints: [grown.checkpoints[0]!, grown.checkpoints[2]!] });
    expect(compareWithPrevious(previous, current).report.at(-1)).toBe(
      'FAILED against the previous export: 1 of its 2 checkpoints are no longer in the log (removed since)',
    );
  });

  it("fails another node's export", () => {
    expect(compareWithPrevious(previous, exported(grown, 'GMP')).report.at(-1)).toBe(
      'FAILED against the previous export: it is an export of WMP, this one of GMP',
    );
  });
});
