import { verify } from 'node:crypto';

import { compactVerify, flattenedVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { KEYS } from './fixtures/test-federation.js';
import { b64u, craftJws, thrownCode } from './fixtures/test-helpers.js';
import { keyResolverFromKeys } from './key-resolver.js';
import type { SigningKey } from './keys.js';
import { signRecord, verifyRecord } from './record-signature.js';

const RECORD = {
  id: '6f1c2d3e-4b5a-4c6d-8e7f-901234567890',
  owner: 'WMP',
  ownerReference: 'MISPER-2025-0042',
  version: 1,
  publishedAt: '2025-03-01T12:00:00.000Z',
  state: 'active',
  marking: 'OFFICIAL-SENSITIVE',
};

const EXPECTED_BYTES =
  '{"id":"6f1c2d3e-4b5a-4c6d-8e7f-901234567890","marking":"OFFICIAL-SENSITIVE","owner":"WMP",' +
  '"ownerReference":"MISPER-2025-0042","publishedAt":"2025-03-01T12:00:00.000Z","state":"active","version":1}';

// Ed25519 is deterministic, so the whole JWS is fixed for a fixed key and record.
const EXPECTED_SIGNATURE =
  'eyJhbGciOiJFZERTQSIsImtpZCI6IjdJemw0MkVJaWVLS0Q2VjNBdkIxdHRsRE8xMllIa1FXVXBKdjBpbml1WDAiLCJ0eXAiOiJtY3gtcmVjb3JkK2p3cyJ9' +
  '..RXiVmJHw4pbvbrDBc4rOHCwfMNpVd9xt0pYEFlt9723kp8p-MepInJJPszARGRwmgky-HsHSiFIsM2-yUih0DQ';

const resolve = keyResolverFromKeys([KEYS.wmpRecord1, KEYS.wmpPeerToken]);

describe('signRecord', () => {
  it('signs the RFC 8785 bytes with an exact, standard detached JWS', () => {
    const signed = signRecord(RECORD, KEYS.wmpRecord1);
    expect(signed.bytes).toBe(EXPECTED_BYTES);
    expect(signed.signature).toBe(EXPECTED_SIGNATURE);
    const [header] = signed.signature.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg: 'EdDSA',
      kid: KEYS.wmpRecord1.kid,
      typ: 'mcx-record+jws',
    });
  });

  it('gives identical bytes and signature for reordered keys and other whitespace', () => {
    const reordered = JSON.parse(`{
      "version": 1,   "state": "active",
      "marking": "OFFICIAL-SENSITIVE", "publishedAt": "2025-03-01T12:00:00.000Z",
      "ownerReference": "MISPER-2025-0042", "owner": "WMP", "id": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890"
    }`) as object;
    expect(signRecord(reordered, KEYS.wmpRecord1)).toEqual({ bytes: EXPECTED_BYTES, signature: EXPECTED_SIGNATURE });
  });

  it('refuses keys of other jobs and values that are not JSON objects', () => {
    const peerKey = KEYS.wmpPeerToken as unknown as SigningKey<'record'>;
    expect(thrownCode(() => signRecord(RECORD, peerKey))).toBe('KEY_NOT_FOR_JOB');
    expect(thrownCode(() => signRecord([1, 2], KEYS.wmpRecord1))).toBe('NOT_JSON');
    expect(thrownCode(() => signRecord({ n: Number.POSITIVE_INFINITY }, KEYS.wmpRecord1))).toBe('NOT_JSON');
  });
});

describe('verifyRecord', () => {
  it('accepts the signed bytes and returns kid and payload', () => {
    expect(verifyRecord(EXPECTED_BYTES, EXPECTED_SIGNATURE, resolve)).toEqual({ valid: true, kid: KEYS.wmpRecord1.kid, payload: RECORD });
  });

  it('is a standard JWS: jose verifies it with the payload re-attached', async () => {
    const [protectedHeader = '', , signature = ''] = EXPECTED_SIGNATURE.split('.');
    const flat = await flattenedVerify({ protected: protectedHeader, payload: b64u(EXPECTED_BYTES), signature }, KEYS.wmpRecord1.publicKey);
    expect(new TextDecoder().decode(flat.payload)).toBe(EXPECTED_BYTES);
    expect(flat.protectedHeader).toEqual({ alg: 'EdDSA', kid: KEYS.wmpRecord1.kid, typ: 'mcx-record+jws' });
    const compact = await compactVerify(`${protectedHeader}.${b64u(EXPECTED_BYTES)}.${signature}`, KEYS.wmpRecord1.publicKey);
    expect(compact.protectedHeader.typ).toBe('mcx-record+jws');
  });

  it('verifies with node:crypto alone over base64url(header).base64url(payload)', () => {
    const [protectedHeader = '', , signature = ''] = EXPECTED_SIGNATURE.split('.');
    const input = Buffer.from(`${protectedHeader}.${Buffer.from(EXPECTED_BYTES, 'utf8').toString('base64url')}`, 'ascii');
    expect(verify(null, input, KEYS.wmpRecord1.publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verify(null, input, KEYS.wmpRecord2.publicKey, Buffer.from(signature, 'base64url'))).toBe(false);
  });

  it('fails any changed, added or removed value', () => {
    const variants: object[] = [
      ...Object.keys(RECORD).map((field) => ({ ...RECORD, [field]: `${String(RECORD[field as keyof typeof RECORD])}x` })),
      { ...RECORD, version: 2 },
      { ...RECORD, extra: null },
      Object.fromEntries(Object.entries(RECORD).filter(([field]) => field !== 'state')),
    ];
    for (const variant of variants) {
      const bytes = signRecord(variant, KEYS.wmpRecord2).bytes;
      expect(verifyRecord(bytes, EXPECTED_SIGNATURE, resolve)).toEqual({ valid: false, reason: 'BAD_SIGNATURE' });
    }
  });

  it('still verifies once reordered or re-spaced JSON is canonicalised again', () => {
    const pretty = JSON.stringify(Object.fromEntries(Object.entries(RECORD).reverse()), null, 2);
    const again = signRecord(JSON.parse(pretty) as object, KEYS.wmpRecord1).bytes;
    expect(verifyRecord(again, EXPECTED_SIGNATURE, resolve).valid).toBe(true);
    // The stored bytes are what is signed: the pretty text itself does not verify.
    expect(verifyRecord(pretty, EXPECTED_SIGNATURE, resolve)).toEqual({ valid: false, reason: 'BAD_SIGNATURE' });
  });

  it('reports NOT_CANONICAL for bytes signed without canonicalising', () => {
    const header = { alg: 'EdDSA', kid: KEYS.wmpRecord1.kid, typ: 'mcx-record+jws' };
    const pretty = JSON.stringify(RECORD, null, 2);
    const signature = craftJws(header, pretty, KEYS.wmpRecord1.privateKey, { detached: true });
    expect(verifyRecord(pretty, signature, resolve)).toEqual({ valid: false, reason: 'NOT_CANONICAL' });
  });

  it('reports MALFORMED for what is not a detached JWS of a JSON object', () => {
    const header = { alg: 'EdDSA', kid: KEYS.wmpRecord1.kid, typ: 'mcx-record+jws' };
    const [h = '', , s = ''] = EXPECTED_SIGNATURE.split('.');
    const malformed = [
      '',
      'abc',
      `${h}.${s}`,
      `${h}.${b64u(EXPECTED_BYTES)}.${s}`, // attached, not detached
      `${h}..${s}=`,
      `${h}..${s}+`,
      `${b64u('not json')}..${s}`,
      `${b64u('[1]')}..${s}`,
      craftJws({ ...header, crit: ['exp'] }, EXPECTED_BYTES, KEYS.wmpRecord1.privateKey, { detached: true }),
      craftJws({ ...header, kid: 7 }, EXPECTED_BYTES, KEYS.wmpRecord1.privateKey, { detached: true }),
    ];
    for (const signature of malformed) {
      expect(verifyRecord(EXPECTED_BYTES, signature, resolve)).toEqual({ valid: false, reason: 'MALFORMED' });
    }
    const array = craftJws(header, '[1]', KEYS.wmpRecord1.privateKey, { detached: true });
    expect(verifyRecord('[1]', array, resolve)).toEqual({ valid: false, reason: 'MALFORMED' });
  });

  it('reports WRONG_ALG and WRONG_TYP', () => {
    const header = { alg: 'EdDSA', kid: KEYS.wmpRecord1.kid, typ: 'mcx-record+jws' };
    const sign = (h: object) => craftJws(h, EXPECTED_BYTES, KEYS.wmpRecord1.privateKey, { detached: true });
    expect(verifyRecord(EXPECTED_BYTES, sign({ ...header, alg: 'none' }), resolve)).toEqual({ valid: false, reason: 'WRONG_ALG' });
    expect(verifyRecord(EXPECTED_BYTES, sign({ ...header, alg: 'Ed25519' }), resolve)).toEqual({ valid: false, reason: 'WRONG_ALG' });
    expect(verifyRecord(EXPECTED_BYTES, sign({ ...header, typ: 'mcx-peer+jwt' }), resolve)).toEqual({ valid: false, reason: 'WRONG_TYP' });
    expect(verifyRecord(EXPECTED_BYTES, sign({ alg: 'EdDSA', kid: header.kid }), resolve)).toEqual({ valid: false, reason: 'WRONG_TYP' });
  });

  it('reports UNKNOWN_KEY, KEY_NOT_FOR_JOB and BAD_SIGNATURE', () => {
    const stranger = signRecord(RECORD, KEYS.stranger);
    expect(verifyRecord(stranger.bytes, stranger.signature, resolve)).toEqual({ valid: false, reason: 'UNKNOWN_KEY' });
    const byPeerKey = craftJws(
      { alg: 'EdDSA', kid: KEYS.wmpPeerToken.kid, typ: 'mcx-record+jws' },
      EXPECTED_BYTES,
      KEYS.wmpPeerToken.privateKey,
      { detached: true },
    );
    expect(verifyRecord(EXPECTED_BYTES, byPeerKey, resolve)).toEqual({ valid: false, reason: 'KEY_NOT_FOR_JOB' });
    const forged = EXPECTED_SIGNATURE.replace(/..$/, 'AA');
    expect(verifyRecord(EXPECTED_BYTES, forged, resolve)).toEqual({ valid: false, reason: 'BAD_SIGNATURE' });
  });
});
