import path from 'node:path';

import type { Command } from 'commander';

import { filesOf, IMPORT_FILES, runImport } from './import-run.js';
import { withNodeDatabase } from './node-database.js';

interface ImportOptions {
  dir?: string;
  file?: string[];
  resume?: boolean;
  progress: string;
  report: string;
  batch: string;
}

const KINDS = IMPORT_FILES.map((f) => f.kind).join(', ');

/** `--file kind=path`, for one file per kind outside a --dir. */
function parseFiles(specs: string[]) {
  return specs.map((spec) => {
    const [kind, ...rest] = spec.split('=');
    const known = IMPORT_FILES.find((f) => f.kind === kind);
    if (!known || rest.length === 0) throw new Error(`--file takes KIND=PATH, KIND one of ${KINDS}`);
    return { kind: known.kind, path: path.resolve(rest.join('=')) };
  });
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      "load the force's history from JSON Lines (the publish mutations' inputs, one a line), through the node's own validation, signing and audit",
    )
    .option('--dir <dir>', `a folder holding ${IMPORT_FILES.map((f) => f.file).join(', ')} (those present are imported, in that order)`)
    .option('--file <kind=path...>', `one file per kind instead of --dir (${KINDS})`)
    .option('--resume', 'start after the last batch a previous run finished (from the progress file)')
    .option('--progress <file>', 'where progress is kept', 'mcx-import.progress.json')
    .option('--report <file>', 'refused lines: file, line number and error code (never the content)', 'mcx-import.report.json')
    .option('--batch <n>', 'records per batch (at most 1000)', '500')
    .action(async (opts: ImportOptions) => {
      const files = opts.file?.length ? parseFiles(opts.file) : opts.dir ? filesOf(path.resolve(opts.dir)) : null;
      if (!files || files.length === 0) throw new Error('nothing to import: give --dir with the JSON Lines files, or --file KIND=PATH');
      const { openImporter } = await import('@mcx/node');
      await withNodeDatabase(async ({ config, logger, url }) => {
        const importer = await openImporter({ config, logger, databaseUrl: url });
        try {
          const started = performance.now();
          const s = await runImport({
            files,
            importer,
            progressFile: path.resolve(opts.progress),
            reportFile: path.resolve(opts.report),
            resume: Boolean(opts.resume),
            batchSize: Number(opts.batch),
            onProgress: (p) => process.stderr.write(`${p.file}: line ${p.line}, ${p.accepted} accepted, ${p.refused} refused\n`),
          });
          const secs = (performance.now() - started) / 1000;
          process.stdout.write(
            `imported ${s.accepted} of ${s.read} lines read (${s.refused} refused, ${s.skipped} skipped as done) in ${secs.toFixed(1)} s; ` +
              `${s.storedAfter - s.storedBefore} new record versions or subjects stored; refused lines in ${path.resolve(opts.report)}\n`,
          );
          if (s.refused > 0) process.exitCode = 2;
        } finally {
          await importer.close();
        }
      });
    });
}
