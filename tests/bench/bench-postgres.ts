import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createFreshDatabase, runMigrations, startEmbeddedPostgres } from '@mcx/db';

/** A migrated database for a benchmark: on DATABASE_URL's server if set, else an embedded one. */
export async function benchDatabase(): Promise<{ url: string; adminUrl: string; stop(): Promise<void> }> {
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-bench-pg-'));
    chmodSync(dir, 0o755);
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port, persistent: false });
    adminUrl = pg.adminUrl;
    stop = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const url = await createFreshDatabase(adminUrl, 'mcx_bench');
  await runMigrations(url);
  return { url, adminUrl, stop };
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
