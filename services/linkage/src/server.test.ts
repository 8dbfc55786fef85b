import { writeFileSync } from 'node:fs';

import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

import { testAdminUrl } from '@mcx/db/testing';
import { signManifest } from '@mcx/signing';

import { parseLinkageConfig } from './config.js';
import { openLinkageDb } from './db/index.js';
import { KeyRateLimiter } from './rate-limit.js';
import { startLinkageService } from './server.js';
import { freshLinkageDatabase, linkageTestFiles } from './testkit-db.js';
import { captureLogger, KEY_ENTRIES, signedTestManifest, TEST_KEYS, testClock, testManifest } from './testkit.js';

describe('KeyRateLimiter (PostgreSQL)', () => {
  it('counts keys, refills at the rate, caps at the burst, and never mints tokens when the clock steps back', async () => {
    const store = openLinkageDb(await freshLinkageDatabase(), { max: 2 });
    try {
      const clock = testClock();
      const limiter = new KeyRateLimiter(store, { ratePerSecond: 10, burst: 30, now: clock.now });
      expect(await limiter.take('WMP', 30)).toEqual({ ok: true });
      expect(await limiter.take('WMP', 1)).toEqual({ ok: false, retryAfterSec: 1 });
      expect(await limiter.take('GMP', 30)).toEqual({ ok: true });
      clock.advance(2);
      expect(await limiter.take('WMP', 25)).toEqual({ ok: false, retryAfterSec: 1 });
      expect(await limiter.take('WMP', 20)).toEqual({ ok: true });
      clock.advance(-60);
      expect(await limiter.take('WMP', 1)).toEqual({ ok: false, retryAfterSec: 1 });
      clock.advance(3600);
      expect(await limiter.take('WMP', 31)).toEqual({ ok: false, retryAfterSec: 3 });
      expect(await limiter.take('WMP', 30)).toEqual({ ok: true });
      expect(await limiter.take('NPT', 31)).toEqual({ ok: false, retryAfterSec: 3 });
      expect(await limiter.take('NPT', 30)).toEqual({ ok: true });
    } finally {
      await store.close();
    }
  });
});

describe('KeyRateLimiter durability', () => {
  it("a take's transaction commits durably where the session's synchronous_commit is off, and only that transaction", async () => {
    // Off for the connection (a URL parameter): the used token before the take is made durable by the take's flush.
    const store = openLinkageDb(`${await freshLinkageDatabase()}?synchronous_commit=off`, { max: 1 });
    const show = async (sql: postgres.Sql | postgres.TransactionSql) =>
      (await sql<{ synchronous_commit: string }[]>`show synchronous_commit`)[0]!.synchronous_commit;
    try {
      expect(await show(store.sql)).toBe('off');
      const during = await store.sql.begin(async (tx) => {
        const limiter = new KeyRateLimiter({ sql: tx as unknown as postgres.Sql }, { ratePerSecond: 10, burst: 30, now: testClock().now });
        expect(await limiter.take('WMP', 1)).toEqual({ ok: true });
        return show(tx);
      });
      expect(during).toBe('on');
      expect(await show(store.sql)).toBe('off');
    } finally {
      await store.close();
    }
  });
});

describe('startLinkageService', () => {
  it('migrates its database, loads its files, listens, reloads a newer manifest and closes', async () => {
    const files = linkageTestFiles();
    const config = parseLinkageConfig({
      PORT: '0',
      DATABASE_URL: await freshLinkageDatabase(),
      MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator,
      MCX_MANIFEST_FILE: files.manifest,
      MCX_LINKAGE_KEYS_FILE: files.keys,
    });
    const { logger, lines } = captureLogger();
    const service = await startLinkageService(config, logger, testClock().now);
    try {
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${service.url}/v1/keys`)).json()).toMatchObject({ active: 'k2' });
      writeFileSync(files.manifest, signManifest({ ...testManifest(), version: 6 }, TEST_KEYS.operator));
      await service.reloadManifest();
      expect(await (await fetch(`${service.url}/healthz`)).json()).toMatchObject({ manifest: { version: 6 } });
      writeFileSync(files.manifest, signedTestManifest());
      await expect(service.reloadManifest()).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['trust manifest installed', 'linkage service listening']));
      expect(JSON.stringify(lines)).not.toContain(KEY_ENTRIES[0]!.key);
    } finally {
      await service.close();
    }
  });

  it('refuses to start on a database whose commits do not wait for their flush, and starts once that is reset', async () => {
    const url = await freshLinkageDatabase();
    const name = new URL(url).pathname.slice(1);
    const admin = postgres(testAdminUrl(), { max: 1, onnotice: () => {} });
    const files = linkageTestFiles();
    const config = parseLinkageConfig({
      PORT: '0',
      DATABASE_URL: url,
      MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator,
      MCX_MANIFEST_FILE: files.manifest,
      MCX_LINKAGE_KEYS_FILE: files.keys,
    });
    try {
      await admin.unsafe(`alter database "${name}" set synchronous_commit = off`);
      const { logger, lines } = captureLogger();
      await expect(startLinkageService(config, logger, testClock().now)).rejects.toMatchObject({
        code: 'DATABASE_NOT_DURABLE',
        message: expect.stringContaining(
          `(set by the database); a used node token could be used again after a crash. Fix: ALTER DATABASE ${name} RESET synchronous_commit;`,
        ),
      });
      await admin.unsafe(`alter database "${name}" reset synchronous_commit`);
      // Set by the connection itself (postgres.js sends a URL's parameters at startup): the fix says where.
      const byUrl = parseLinkageConfig({
        PORT: '0',
        DATABASE_URL: `${url}?synchronous_commit=off`,
        MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator,
        MCX_MANIFEST_FILE: files.manifest,
        MCX_LINKAGE_KEYS_FILE: files.keys,
      });
      await expect(startLinkageService(byUrl, logger, testClock().now)).rejects.toMatchObject({
        code: 'DATABASE_NOT_DURABLE',
        message: expect.stringContaining('(set by the connection: DATABASE_URL)'),
      });
      expect(lines.map((l) => l.msg)).not.toContain('linkage service listening');
      const service = await startLinkageService(config, logger, testClock().now);
      await service.close();
    } finally {
      await admin.end();
    }
  });
});
