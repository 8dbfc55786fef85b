import { createPublicKey } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { KEYS } from './fixtures/test-federation.js';
import { craftJws } from './fixtures/test-helpers.js';
import type { KeyResolver } from './key-resolver.js';
import { signRecord, verifyRecord } from './record-signature.js';
import { rememberVerified, VERIFIED_PER_KEY, verifiedDigest, wasVerified } from './verified-cache.js';

// The cache lets verifyRecord skip Ed25519 for a triple it has verified before. These tests show
// it remembers only what verified, under the very key object that verified it, and never lets a
// changed byte, a borrowed signature or a revoked key through.
const key = KEYS.wmpRecord1;
const digestOf = (bytes: string, signature: string) => {
  const [header = '', , sig = ''] = signature.split('.');
  return verifiedDigest(header, Buffer.from(sig, 'base64url'), bytes);
};

function switchable(): { resolve: KeyResolver; revoke(): void } {
  let revoked = false;
  return {
    resolve: (kid) =>
      kid !== key.kid
        ? { found: false, reason: 'UNKNOWN_KEY' }
        : revoked
          ? { found: false, reason: 'REVOKED_KEY' }
          : { found: true, kid, job: 'record', publicKey: key.publicKey },
    revoke: () => {
      revoked = true;
    },
  };
}

describe('verified-signature cache', () => {
  it('remembers a verified record under the key object that verified it, and only that one', () => {
    const signed = signRecord({ id: 'cache-1', owner: 'WMP', version: 1 }, key);
    const digest = digestOf(signed.bytes, signed.signature);
    expect(wasVerified(key.publicKey, digest)).toBe(false);
    expect(verifyRecord(signed.bytes, signed.signature, switchable().resolve).valid).toBe(true);
    expect(wasVerified(key.publicKey, digest)).toBe(true);
    // Another node parses its own key object from the same key: it has verified nothing yet.
    const sameKeyElsewhere = createPublicKey({ key: key.publicKey.export({ format: 'jwk' }), format: 'jwk' });
    expect(wasVerified(sameKeyElsewhere, digest)).toBe(false);
  });

  it('never remembers a failure, and a changed byte after a success is verified afresh and refused', () => {
    const { resolve } = switchable();
    const signed = signRecord({ id: 'cache-2', owner: 'WMP', version: 1 }, key);
    expect(verifyRecord(signed.bytes, signed.signature, resolve).valid).toBe(true);
    const tampered = signed.bytes.replace('"version":1', '"version":2');
    for (let i = 0; i < 2; i++) {
      expect(verifyRecord(tampered, signed.signature, resolve)).toEqual({ valid: false, reason: 'BAD_SIGNATURE' });
      expect(wasVerified(key.publicKey, digestOf(tampered, signed.signature))).toBe(false);
    }
    // Another record's valid signature, moved onto these bytes.
    const other = signRecord({ id: 'cache-3', owner: 'WMP', version: 1 }, key);
    expect(verifyRecord(other.bytes, other.signature, resolve).valid).toBe(true);
    expect(verifyRecord(signed.bytes, other.signature, resolve)).toEqual({ valid: false, reason: 'BAD_SIGNATURE' });
  });

  it('never remembers a signature over bytes that are not canonical JSON: refused again the second time', () => {
    const { resolve } = switchable();
    const header = { alg: 'EdDSA', kid: key.kid, typ: 'mcx-record+jws' };
    const pretty = JSON.stringify({ id: 'cache-5', owner: 'WMP', version: 1 }, null, 2);
    const signature = craftJws(header, pretty, key.privateKey, { detached: true });
    for (let i = 0; i < 2; i++) expect(verifyRecord(pretty, signature, resolve)).toEqual({ valid: false, reason: 'NOT_CANONICAL' });
    expect(wasVerified(key.publicKey, digestOf(pretty, signature))).toBe(false);
  });

  it('a lone surrogate never matches the record whose text has U+FFFD there (both hash alike as UTF-8)', () => {
    const { resolve } = switchable();
    const signed = signRecord({ id: 'cache-6', owner: 'WMP', note: 'a\uFFFDb' }, key);
    expect(verifyRecord(signed.bytes, signed.signature, resolve).valid).toBe(true);
    const lone = signed.bytes.replace('\uFFFD', '\uD800');
    expect(lone).not.toBe(signed.bytes);
    expect(verifyRecord(lone, signed.signature, resolve).valid).toBe(false);
  });

  it('asks for the key every time: a record verified before its key was revoked is refused after', () => {
    const { resolve, revoke } = switchable();
    const signed = signRecord({ id: 'cache-4', owner: 'WMP', version: 1 }, key);
    expect(verifyRecord(signed.bytes, signed.signature, resolve).valid).toBe(true);
    revoke();
    expect(verifyRecord(signed.bytes, signed.signature, resolve)).toEqual({ valid: false, reason: 'REVOKED_KEY' });
  });

  it('keeps at most VERIFIED_PER_KEY entries a key, dropping the least recently used', () => {
    const own = createPublicKey({ key: key.publicKey.export({ format: 'jwk' }), format: 'jwk' });
    const digests = Array.from({ length: VERIFIED_PER_KEY + 1 }, (_, i) => `d${i}`);
    for (const d of digests.slice(0, VERIFIED_PER_KEY)) rememberVerified(own, d);
    expect(wasVerified(own, 'd0')).toBe(true); // d0 is now the most recently used
    rememberVerified(own, digests[VERIFIED_PER_KEY]!);
    expect(wasVerified(own, 'd0')).toBe(true);
    expect(wasVerified(own, 'd1')).toBe(false);
    expect(wasVerified(own, digests[VERIFIED_PER_KEY]!)).toBe(true);
  });
});
