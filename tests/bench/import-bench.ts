/**
 * `npm run bench:import`: imports IMPORT_BENCH_N (default 100,000) synthetic closed episodes
 * through `mcx import`'s path (packages/cli/src/commands/import-run.ts, in-process publish),
 * prints the rate, then runs again and prints how many new versions the rerun stored (0).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createLogger } from '@mcx/logger';
import { generateNodeKeys, openImporter, parseConfig, writeNodeKeys } from '@mcx/node';

import { filesOf, runImport } from '../../packages/cli/src/commands/import-run.js';
import { benchDatabase } from './bench-postgres.js';

const N = Number(process.env.IMPORT_BENCH_N ?? 100_000);
const HOUR = 3600_000;

function episode(i: number, now: number): string {
  const lastSeen = now - (48 + (i % 5000)) * HOUR;
  return JSON.stringify({
    id: randomUUID(),
    version: 1,
    ownerReference: `MIS-BENCH-${i}`,
    subjectRef: `SUBJ-BENCH-${i % 20_000}`,
    reviewAt: new Date(now + 400 * 24 * HOUR).toISOString().slice(0, 10),
    status: 'CLOSED',
    reportedAt: new Date(lastSeen + 2 * HOUR).toISOString(),
    lastSeenAt: new Date(lastSeen).toISOString(),
    foundAt: new Date(lastSeen + 20 * HOUR).toISOString(),
    missingFrom: { kind: 'CHILDRENS_HOME', location: { postcode: 'B15 2TT' } },
    careStatus: 'LOOKED_AFTER',
    foundPlace: { kind: 'OTHER', location: { postcode: 'B1 1AA', lat: 52.4796, lon: -1.9026 } },
    foundBy: 'POLICE',
    assessment: { riskGrade: 'MEDIUM', indicators: ['CSE'], regrades: [] },
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-import-bench-'));
  const db = await benchDatabase();
  const now = Date.now();
  writeFileSync(path.join(dir, 'episodes.jsonl'), Array.from({ length: N }, (_, i) => episode(i, now)).join('\n') + '\n');
  writeNodeKeys(path.join(dir, 'keys'), generateNodeKeys());
  const config = parseConfig({
    MCX_ENV: 'test',
    DATABASE_URL: db.url,
    MCX_DATA_DIR: dir,
    MCX_KEYS_DIR: path.join(dir, 'keys'),
    LOG_LEVEL: 'error',
  });
  const importer = await openImporter({ config, logger: createLogger({ level: 'error' }), databaseUrl: db.url });
  try {
    const run = async (label: string) => {
      const started = performance.now();
      let last = 0;
      const s = await runImport({
        files: filesOf(dir),
        importer,
        progressFile: path.join(dir, 'progress.json'),
        reportFile: path.join(dir, 'report.json'),
        resume: false,
        batchSize: 1000,
        onProgress: (p) => {
          if (p.line - last >= N / 10) {
            last = p.line;
            process.stdout.write(`  ${label}: ${p.line} lines\n`);
          }
        },
      });
      const secs = (performance.now() - started) / 1000;
      process.stdout.write(
        `${label}: ${s.accepted} of ${s.read} episodes accepted (${s.refused} refused) in ${secs.toFixed(1)} s = ${Math.round(s.accepted / secs)} records/s; ` +
          `${s.storedAfter - s.storedBefore} new record versions stored\n`,
      );
    };
    await run('import');
    await run('rerun');
  } finally {
    await importer.close();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
