import { McxError } from '@mcx/errors';
import { exportPublicKeyPem, isoUtcMs, type VerifyKey } from '@mcx/signing';

import { AuditErrorCode } from './audit-errors.js';
import type { StoredEntry } from './chain.js';
import { ENTRY_COLUMNS, entryColumns, type EntryColumns } from './columns.js';
import type { AuditEntry } from './entry.js';

/**
 * The format tag `writeExport` writes, in the header line. `/2` adds to each entry line the
 * row's stored column copies (`columns`), so an offline verifier compares them with the entry.
 * `/3` ends the file with an `end` line counting its entries and checkpoints, so a file cut short
 * in transfer (a streamed export whose connection dropped) is refused, never read as a shorter log.
 */
export const EXPORT_FORMAT = 'mcx-audit-export/3';

/** Every format `parseExport` reads: `/1` (entry lines without `columns`), `/2`, and `/3` (with its `end` line). */
export const EXPORT_FORMATS = ['mcx-audit-export/1', 'mcx-audit-export/2', EXPORT_FORMAT] as const;

/** One export format tag. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The first line of an export. `publicKey` is informational: a verifier uses the key it trusts. */
export interface ExportHeader {
  type: 'header';
  node: string;
  format: ExportFormat;
  exportedAt: string;
  /** SPKI PEM of the node's audit-checkpoint public key. */
  publicKey: string;
}

/** A parsed export: header, entries in file order, checkpoint JWS in file order. */
export interface AuditExport {
  header: ExportHeader;
  entries: StoredEntry[];
  checkpoints: string[];
}

/** What `writeExport` needs: the node, when, its audit-checkpoint public key, entries in seq order, checkpoints. */
export interface WriteExportInput {
  node: string;
  exportedAt: string;
  publicKey: VerifyKey<'audit-checkpoint'>;
  entries: readonly StoredEntry[];
  checkpoints: readonly string[];
}

/** The header line of an export (without its newline). */
export function exportHeaderLine(input: Pick<WriteExportInput, 'node' | 'exportedAt' | 'publicKey'>): string {
  const header: ExportHeader = {
    type: 'header',
    node: input.node,
    format: EXPORT_FORMAT,
    exportedAt: input.exportedAt,
    publicKey: exportPublicKeyPem(input.publicKey),
  };
  return JSON.stringify(header);
}

/** One stored entry's line (without its newline), with the row's column copies (derived from the entry when the row has none). */
export function exportEntryLine({ seq, prevHash, hash, entry, columns }: StoredEntry): string {
  return JSON.stringify({ type: 'entry', seq, prevHash, hash, entry, columns: columns ?? entryColumns(entry) });
}

/** One checkpoint's line (without its newline). */
export function exportCheckpointLine(jws: string): string {
  return JSON.stringify({ type: 'checkpoint', jws });
}

/**
 * The last line (without its newline): how many entry and checkpoint lines came before it. It says
 * the file is whole; it is not signed (the checkpoints and the witnesses vouch for the entries).
 */
export function exportEndLine(entries: number, checkpoints: number): string {
  return JSON.stringify({ type: 'end', entries, checkpoints });
}

/**
 * Writes an export as JSON Lines: a header, one `entry` line per stored entry (as given: pass them
 * in seq order) with the row's stored column copies (derived from the entry when the rows have
 * none), one `checkpoint` line per JWS, then the `end` line. Ends with a newline. A long log is
 * better streamed, a line at a time, with the line functions above.
 */
export function writeExport(input: WriteExportInput): string {
  const lines = [
    exportHeaderLine(input),
    ...input.entries.map(exportEntryLine),
    ...input.checkpoints.map(exportCheckpointLine),
    exportEndLine(input.entries.length, input.checkpoints.length),
  ];
  return `${lines.join('\n')}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(line: number, problem: string): McxError {
  // The line's content is never echoed: it may hold personal data.
  return new McxError(AuditErrorCode.EXPORT_MALFORMED, `audit export line ${line}: ${problem}`);
}

function exactKeys(value: Record<string, unknown>, keys: string[]): boolean {
  const actual = Object.keys(value);
  return actual.length === keys.length && keys.every((key) => key in value);
}

// What the verifier prints from a header: a member's code and a time, never text of the file's choosing.
const NODE_CODE = /^[A-Z0-9][A-Z0-9_-]{1,15}$/;

function parseHeader(value: Record<string, unknown>, line: number): ExportHeader {
  if (value.type !== 'header') throw malformed(line, 'the first line must be the header');
  if (!(EXPORT_FORMATS as readonly unknown[]).includes(value.format)) {
    throw new McxError(
      AuditErrorCode.EXPORT_UNSUPPORTED_FORMAT,
      `audit export line ${line}: format is not one of ${EXPORT_FORMATS.join(', ')}`,
    );
  }
  const ok =
    exactKeys(value, ['type', 'node', 'format', 'exportedAt', 'publicKey']) &&
    typeof value.node === 'string' &&
    NODE_CODE.test(value.node) &&
    typeof value.exportedAt === 'string' &&
    Number.isFinite(isoUtcMs(value.exportedAt)) &&
    typeof value.publicKey === 'string';
  if (!ok) throw malformed(line, 'header must be { type, node (a member code), format, exportedAt (ISO 8601, UTC), publicKey }');
  return value as unknown as ExportHeader;
}

function parseEntry(value: Record<string, unknown>, line: number, format: ExportFormat): StoredEntry {
  const withColumns = format !== 'mcx-audit-export/1';
  const ok =
    exactKeys(value, ['type', 'seq', 'prevHash', 'hash', 'entry', ...(withColumns ? ['columns'] : [])]) &&
    Number.isSafeInteger(value.seq) &&
    typeof value.prevHash === 'string' &&
    typeof value.hash === 'string' &&
    isRecord(value.entry) &&
    (!withColumns || (isRecord(value.columns) && exactKeys(value.columns, [...ENTRY_COLUMNS])));
  if (!ok) {
    throw malformed(
      line,
      `entry must be { type, seq (integer), prevHash, hash, entry (object)${withColumns ? `, columns ({ ${ENTRY_COLUMNS.join(', ')} })` : ''} }`,
    );
  }
  // The entry and its columns are kept exactly as written: verification hashes the entry and
  // compares the columns with it, so any edit of either shows.
  const stored: StoredEntry = {
    seq: value.seq as number,
    prevHash: value.prevHash as string,
    hash: value.hash as string,
    entry: value.entry as unknown as AuditEntry,
  };
  if (withColumns) stored.columns = value.columns as unknown as EntryColumns;
  return stored;
}

/**
 * Parses an export; throws `EXPORT_MALFORMED` (or `EXPORT_UNSUPPORTED_FORMAT`) with the 1-based line number.
 * Structure only: whether the chain holds is `verifyChain`'s job.
 */
export function parseExport(text: string): AuditExport {
  // A byte-order mark and blank lines at the end (an editor's, a copy's) are not content: anything else after the end line is.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  while (lines.length > 0 && /^\r?$/.test(lines.at(-1)!)) lines.pop();
  let header: ExportHeader | null = null;
  const entries: StoredEntry[] = [];
  const checkpoints: string[] = [];
  let ended = false;
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    if (ended) throw malformed(line, 'a line after the end line');
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw malformed(line, 'not JSON');
    }
    if (!isRecord(value)) throw malformed(line, 'not a JSON object');
    if (header === null) {
      header = parseHeader(value, line);
      continue;
    }
    switch (value.type) {
      case 'entry':
        if (checkpoints.length > 0) throw malformed(line, 'entry after a checkpoint line');
        entries.push(parseEntry(value, line, header.format));
        continue;
      case 'checkpoint':
        if (!exactKeys(value, ['type', 'jws']) || typeof value.jws !== 'string') throw malformed(line, 'checkpoint must be { type, jws }');
        checkpoints.push(value.jws);
        continue;
      case 'end':
        if (header.format !== EXPORT_FORMAT) throw malformed(line, 'unknown line type');
        if (
          !exactKeys(value, ['type', 'entries', 'checkpoints']) ||
          value.entries !== entries.length ||
          value.checkpoints !== checkpoints.length
        )
          throw malformed(line, `the end line must count the ${entries.length} entries and ${checkpoints.length} checkpoints before it`);
        ended = true;
        continue;
      case 'header':
        throw malformed(line, 'a second header');
      default:
        throw malformed(line, 'unknown line type');
    }
  }
  if (header === null) throw malformed(1, 'empty export: no header');
  if (header.format === EXPORT_FORMAT && !ended)
    throw malformed(lines.length + 1, 'no end line: the export was cut short (download it again)');
  return { header, entries, checkpoints };
}
