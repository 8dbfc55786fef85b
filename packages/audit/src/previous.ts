/**
 * An export against an older export of the same node, kept by the auditor. The log only grows, so
 * every entry the older one held must be in the newer one unchanged (the same seq, the same hash),
 * and every checkpoint it held too. This shows what one file cannot: a tail removed in the
 * database together with the checkpoints over it, or a rewritten stretch re-chained and signed
 * again since. It says where, by seq and count only, never an entry's content.
 */
import type { AuditExport } from './export.js';

export interface PreviousComparison {
  ok: boolean;
  report: string[];
}

export function compareWithPrevious(previous: AuditExport, current: AuditExport): PreviousComparison {
  const { header, entries, checkpoints } = previous;
  const report = [
    `previous export of ${header.node}, exported ${header.exportedAt}: ${entries.length} entries, ${checkpoints.length} checkpoints`,
  ];
  const fail = (why: string): PreviousComparison => ({ ok: false, report: [...report, `FAILED against the previous export: ${why}`] });
  if (header.node !== current.header.node) return fail(`it is an export of ${header.node}, this one of ${current.header.node}`);
  const hashes = new Map(current.entries.map((e) => [e.seq, e.hash]));
  for (const e of entries) {
    const now = hashes.get(e.seq);
    if (now === undefined) return fail(`entry seq ${e.seq} is no longer in the log (removed since)`);
    if (now !== e.hash) return fail(`entry seq ${e.seq} has changed since (its hash differs)`);
  }
  const held = new Set(current.checkpoints);
  const gone = checkpoints.filter((c) => !held.has(c)).length;
  if (gone > 0) return fail(`${gone} of its ${checkpoints.length} checkpoints are no longer in the log (removed since)`);
  return {
    ok: true,
    report: [
      ...report,
      `ok against the previous export: its ${entries.length} entries and ${checkpoints.length} checkpoints are all here, unchanged`,
    ],
  };
}
