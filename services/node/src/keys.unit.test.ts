import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { generateSigningKey } from '@mcx/signing';

import { LINKAGE_DIGEST_FILE, linkageDigestKeyOf, pinLinkageDigestKey, readLinkageDigestKey } from './keys.js';

const dirs: string[] = [];
const keysDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-keys-unit-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the audit log's linkage-digest key", () => {
  it('is pinned once, as the current audit key derives it, and read back as such; a second pin keeps the first', () => {
    const dir = keysDir();
    const first = generateSigningKey('audit-checkpoint');
    expect(readLinkageDigestKey(dir)).toBeNull();
    expect(pinLinkageDigestKey(dir, first)).toBe(true);
    expect(readLinkageDigestKey(dir)!.equals(linkageDigestKeyOf(first))).toBe(true);
    // After a rotation the pinned key stays: the next audit key derives another, which is not used.
    const second = generateSigningKey('audit-checkpoint');
    expect(pinLinkageDigestKey(dir, second)).toBe(false);
    expect(readLinkageDigestKey(dir)!.equals(linkageDigestKeyOf(first))).toBe(true);
    expect(linkageDigestKeyOf(second).equals(linkageDigestKeyOf(first))).toBe(false);
    expect(readFileSync(path.join(dir, LINKAGE_DIGEST_FILE), 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it('refuses a file that is not one 32-byte base64url key, naming the file', () => {
    for (const text of ['', 'not a key', 'A'.repeat(42), `${'A'.repeat(43)}=`, 'A'.repeat(44), `${'A'.repeat(42)}B`]) {
      const dir = keysDir();
      writeFileSync(path.join(dir, LINKAGE_DIGEST_FILE), text);
      expect(() => readLinkageDigestKey(dir), JSON.stringify(text)).toThrow(LINKAGE_DIGEST_FILE);
    }
  });
});
