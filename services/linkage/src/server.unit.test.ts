import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportPublicKeyPem, signManifest } from '@mcx/signing';
import { describe, expect, it } from 'vitest';
import { LinkageConfigError, parseLinkageConfig } from './config.js';
import { addKeyVersion, buildKeyring, newKeysFile } from './keyring.js';
import { KeyRateLimiter } from './rate-limit.js';
import { startLinkageService } from './server.js';
import { captureLogger, KEY_ENTRIES, signedTestManifest, testClock, testManifest, TEST_KEYS } from './testkit.js';

const FILES = { MCX_OPERATOR_PUBLIC_KEY_FILE: '/k/op.pem', MCX_MANIFEST_FILE: '/k/manifest.jws', MCX_LINKAGE_KEYS_FILE: '/k/keys.json' };

describe('parseLinkageConfig', () => {
  it('applies the defaults', () => {
    expect(parseLinkageConfig(FILES)).toEqual({
      host: '127.0.0.1',
      port: 4100,
      operatorPublicKeyFile: '/k/op.pem',
      manifestFile: '/k/manifest.jws',
      keysFile: '/k/keys.json',
      audience: 'mcx-linkage',
      ratePerSecond: 200,
      burst: 2000,
      maxBatch: 64,
      logLevel: 'info',
    });
  });

  it('collects every problem at once', () => {
    try {
      parseLinkageConfig({ PORT: 'eighty', MCX_LINKAGE_MAX_BATCH: '0', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LinkageConfigError);
      const fields = (err as LinkageConfigError).problems.map((p) => p.split(':')[0]);
      expect(fields).toEqual(expect.arrayContaining(['PORT', 'MCX_OPERATOR_PUBLIC_KEY_FILE', 'MCX_MANIFEST_FILE', 'MCX_LINKAGE_KEYS_FILE', 'MCX_LINKAGE_MAX_BATCH', 'LOG_LEVEL']));
    }
    expect(() => parseLinkageConfig({ ...FILES, MCX_LINKAGE_BURST: '10', MCX_LINKAGE_MAX_BATCH: '64' })).toThrow(/MCX_LINKAGE_MAX_BATCH: must not exceed/);
  });
});

describe('linkage keys file', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return 'none';
  };

  it('needs exactly one active, unique, valid key and never repeats key material in errors', () => {
    expect(buildKeyring(KEY_ENTRIES).active.version).toBe('k2');
    expect(code(() => buildKeyring(KEY_ENTRIES.map((e) => ({ ...e, active: true }))))).toBe('LINKAGE_KEYS_INVALID');
    expect(code(() => buildKeyring(KEY_ENTRIES.map((e) => ({ ...e, active: false }))))).toBe('LINKAGE_KEYS_INVALID');
    expect(code(() => buildKeyring([KEY_ENTRIES[1], { ...KEY_ENTRIES[0]!, version: 'k2' }]))).toBe('LINKAGE_KEYS_INVALID');
    expect(code(() => buildKeyring([{ version: 'k1', key: '00'.repeat(32), active: true }]))).toBe('LINKAGE_KEY_INVALID');
    expect(code(() => buildKeyring([]))).toBe('LINKAGE_KEYS_INVALID');
    try {
      buildKeyring([{ ...KEY_ENTRIES[1]!, extra: true }]);
    } catch (err) {
      expect((err as Error).message).not.toContain(KEY_ENTRIES[1]!.key);
    }
  });

  it('adds a version as active and keeps the old one inactive', () => {
    const first = newKeysFile('k1');
    const next = addKeyVersion(first, 'k2');
    expect(next.map((e) => [e.version, e.active])).toEqual([['k1', false], ['k2', true]]);
    expect(next[0]!.key).toBe(first[0]!.key);
    expect(next[1]!.key).not.toBe(first[0]!.key);
    expect(code(() => addKeyVersion(next, 'k1'))).toBe('LINKAGE_KEYS_INVALID');
  });
});

describe('KeyRateLimiter', () => {
  it('counts keys, refills at the rate, caps at the burst, and never mints tokens when the clock steps back', () => {
    const clock = testClock();
    const limiter = new KeyRateLimiter({ ratePerSecond: 10, burst: 30, now: clock.now });
    expect(limiter.take('WMP', 30)).toEqual({ ok: true });
    expect(limiter.take('WMP', 1)).toEqual({ ok: false, retryAfterSec: 1 });
    expect(limiter.take('GMP', 30)).toEqual({ ok: true });
    clock.advance(2);
    expect(limiter.take('WMP', 25)).toEqual({ ok: false, retryAfterSec: 1 });
    expect(limiter.take('WMP', 20)).toEqual({ ok: true });
    clock.advance(-60);
    expect(limiter.take('WMP', 1)).toEqual({ ok: false, retryAfterSec: 1 });
    clock.advance(3600);
    expect(limiter.take('WMP', 31)).toEqual({ ok: false, retryAfterSec: 3 });
    expect(limiter.take('WMP', 30)).toEqual({ ok: true });
  });
});

describe('startLinkageService', () => {
  it('loads its files, listens, reloads a newer manifest and closes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-linkage-'));
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const config = parseLinkageConfig({
      PORT: '0',
      MCX_OPERATOR_PUBLIC_KEY_FILE: file('operator.pub.pem', exportPublicKeyPem(TEST_KEYS.operator)),
      MCX_MANIFEST_FILE: file('manifest.jws', `${signedTestManifest()}\n`),
      MCX_LINKAGE_KEYS_FILE: file('keys.json', JSON.stringify(KEY_ENTRIES)),
    });
    const { logger, lines } = captureLogger();
    const service = await startLinkageService(config, logger, testClock().now);
    try {
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${service.url}/v1/keys`)).json()).toMatchObject({ active: 'k2' });
      const newer = { ...testManifest(), version: 6 };
      file('manifest.jws', signManifest(newer, TEST_KEYS.operator));
      await service.reloadManifest();
      expect(await (await fetch(`${service.url}/healthz`)).json()).toMatchObject({ manifest: { version: 6 } });
      file('manifest.jws', signedTestManifest());
      await expect(service.reloadManifest()).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['trust manifest installed', 'linkage service listening']));
      expect(JSON.stringify(lines)).not.toContain(KEY_ENTRIES[0]!.key);
    } finally {
      await service.close();
    }
  });
});
