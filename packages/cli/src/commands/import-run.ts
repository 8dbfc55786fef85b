/**
 * Reads a force's history from JSON Lines, one file per kind, and publishes it through an
 * Importer (services/node/src/import/history-import.ts) in batches. Progress (the lines done per
 * file) is saved after every batch, so `--resume` starts after the last batch finished; without
 * it a rerun publishes everything again, which stores nothing new. Refused lines go to the
 * report by line number and error code only: a line may hold personal data and is never copied.
 */
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

import type { Importer, ImportKind } from '@mcx/node';

/** The files read from --dir, in the order they are imported (what an episode names is there first). */
export const IMPORT_FILES: readonly { kind: ImportKind; file: string }[] = [
  { kind: 'subjects', file: 'subjects.jsonl' },
  { kind: 'associates', file: 'associates.jsonl' },
  { kind: 'locations-of-concern', file: 'locations-of-concern.jsonl' },
  { kind: 'episodes', file: 'episodes.jsonl' },
];

export interface RefusedLine {
  file: string;
  line: number;
  code: string;
  field: string | null;
}

export interface ImportSummary {
  read: number;
  accepted: number;
  refused: number;
  skipped: number;
  storedBefore: number;
  storedAfter: number;
}

export interface ImportRunOptions {
  files: readonly { kind: ImportKind; path: string }[];
  importer: Importer;
  progressFile: string;
  reportFile: string;
  resume: boolean;
  batchSize?: number;
  onProgress?: (p: { file: string; line: number; accepted: number; refused: number }) => void;
}

type Progress = Record<string, number>;

function readProgress(file: string): Progress {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Progress) : {};
}

function saveProgress(file: string, progress: Progress): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(progress));
  renameSync(`${file}.tmp`, file);
}

/** The files of --dir that exist, or the --file given for one kind. */
export function filesOf(dir: string): { kind: ImportKind; path: string }[] {
  return IMPORT_FILES.filter((f) => existsSync(path.join(dir, f.file))).map((f) => ({ kind: f.kind, path: path.join(dir, f.file) }));
}

export async function runImport(opts: ImportRunOptions): Promise<ImportSummary & { refusedLines: RefusedLine[] }> {
  const batchSize = Math.min(opts.batchSize ?? 500, 1000);
  const progress = opts.resume ? readProgress(opts.progressFile) : {};
  const refusedLines: RefusedLine[] =
    opts.resume && existsSync(opts.reportFile)
      ? (JSON.parse(readFileSync(opts.reportFile, 'utf8')) as { refused: RefusedLine[] }).refused
      : [];
  const summary: ImportSummary = {
    read: 0,
    accepted: 0,
    refused: 0,
    skipped: 0,
    storedBefore: await opts.importer.storedCount(),
    storedAfter: 0,
  };
  const writeReport = () => writeFileSync(opts.reportFile, JSON.stringify({ refused: refusedLines }, null, 1));
  for (const f of opts.files) {
    const name = path.basename(f.path);
    const done = progress[name] ?? 0;
    let pending: { line: number; input: unknown }[] = [];
    let lineNo = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      const refused = await opts.importer.publish(
        f.kind,
        pending.map((p) => p.input),
      );
      for (const r of refused) refusedLines.push({ file: name, line: pending[r.index]!.line, code: r.code, field: r.field });
      const refusedHere = new Set(refused.map((r) => r.index)).size;
      summary.refused += refusedHere;
      summary.accepted += pending.length - refusedHere;
      progress[name] = lineNo;
      saveProgress(opts.progressFile, progress);
      writeReport();
      opts.onProgress?.({ file: name, line: lineNo, accepted: summary.accepted, refused: summary.refused });
      pending = [];
    };
    const lines = createInterface({ input: createReadStream(f.path, 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      lineNo += 1;
      if (lineNo <= done) {
        summary.skipped += 1;
        continue;
      }
      if (text.trim() === '') continue;
      summary.read += 1;
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch {
        refusedLines.push({ file: name, line: lineNo, code: 'INVALID_JSON', field: null });
        summary.refused += 1;
        continue;
      }
      pending.push({ line: lineNo, input });
      if (pending.length >= batchSize) await flush();
    }
    await flush();
    progress[name] = lineNo;
    saveProgress(opts.progressFile, progress);
  }
  writeReport();
  summary.storedAfter = await opts.importer.storedCount();
  return { ...summary, refusedLines };
}
