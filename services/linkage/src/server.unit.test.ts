import { describe, expect, it } from 'vitest';

import { LinkageConfigError, parseLinkageConfig } from './config.js';
import { addKeyVersion, buildKeyring, newKeysFile } from './keyring.js';
import { KEY_ENTRIES } from './testkit.js';

const FILES = {
  DATABASE_URL: 'postgres://linkage@db.example:5432/mcx_linkage',
  MCX_OPERATOR_PUBLIC_KEY_FILE: '/k/op.pem',
  MCX_MANIFEST_FILE: '/k/manifest.jws',
  MCX_LINKAGE_KEYS_FILE: '/k/keys.json',
};

describe('parseLinkageConfig', () => {
  it('applies the defaults', () => {
    expect(parseLinkageConfig(FILES)).toEqual({
      host: '127.0.0.1',
      port: 4100,
      databaseUrl: 'postgres://linkage@db.example:5432/mcx_linkage',
      dbPoolMax: 10,
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
      expect(fields).toEqual(
        expect.arrayContaining([
          'PORT',
          'DATABASE_URL',
          'MCX_OPERATOR_PUBLIC_KEY_FILE',
          'MCX_MANIFEST_FILE',
          'MCX_LINKAGE_KEYS_FILE',
          'MCX_LINKAGE_MAX_BATCH',
          'LOG_LEVEL',
        ]),
      );
    }
    expect(() => parseLinkageConfig({ ...FILES, MCX_LINKAGE_BURST: '10', MCX_LINKAGE_MAX_BATCH: '64' })).toThrow(
      /MCX_LINKAGE_MAX_BATCH: must not exceed/,
    );
  });

  it('needs its own PostgreSQL database: no replica keeps rate limits, used tokens or the manifest floor in memory', () => {
    const problems = (env: Record<string, string | undefined>) => {
      try {
        parseLinkageConfig(env);
      } catch (err) {
        return (err as LinkageConfigError).problems;
      }
      return [];
    };
    expect(problems({ ...FILES, DATABASE_URL: undefined })).toEqual([
      expect.stringMatching(/^DATABASE_URL: is required \(a postgres:\/\/ URL\)/),
    ]);
    expect(problems({ ...FILES, DATABASE_URL: '  ' })).toEqual([expect.stringMatching(/^DATABASE_URL: is required/)]);
    const wrong = problems({ ...FILES, DATABASE_URL: 'mysql://linkage:s3cret-pw@db.example/mcx' });
    expect(wrong).toEqual(['DATABASE_URL: must be a postgres:// URL']);
    expect(wrong.join('\n')).not.toContain('s3cret-pw');
    expect(
      parseLinkageConfig({ ...FILES, DATABASE_URL: 'postgresql://db.example/mcx_linkage', MCX_LINKAGE_DB_POOL_MAX: '3' }),
    ).toMatchObject({
      databaseUrl: 'postgresql://db.example/mcx_linkage',
      dbPoolMax: 3,
    });
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
    expect(next.map((e) => [e.version, e.active])).toEqual([
      ['k1', false],
      ['k2', true],
    ]);
    expect(next[0]!.key).toBe(first[0]!.key);
    expect(next[1]!.key).not.toBe(first[0]!.key);
    expect(code(() => addKeyVersion(next, 'k1'))).toBe('LINKAGE_KEYS_INVALID');
  });
});
