import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';

import { FIXTURE_PEMS } from './fixtures/fixture-keys.js';
import { KEYS } from './fixtures/test-federation.js';
import { thrownCode } from './fixtures/test-helpers.js';
import {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateSigningKey,
  JOB_TYP,
  jwkThumbprint,
  loadSigningKey,
  loadVerifyKey,
  signingKeyFromPem,
  toPublicKey,
  verifyKeyFromJwk,
  verifyKeyFromPem,
} from './keys.js';

describe('keys by job', () => {
  it('gives each job its own typ', () => {
    expect(new Set(Object.values(JOB_TYP)).size).toBe(4);
    expect(JOB_TYP).toEqual({
      record: 'mcx-record+jws',
      'peer-token': 'mcx-peer+jwt',
      'audit-checkpoint': 'mcx-checkpoint+jws',
      manifest: 'mcx-manifest+jws',
    });
  });

  it('uses the RFC 7638 thumbprint as kid, equal to jose calculateJwkThumbprint', async () => {
    for (const key of Object.values(KEYS)) {
      expect(key.kid).toBe(await calculateJwkThumbprint(key.jwk, 'sha256'));
      expect(jwkThumbprint(key.jwk)).toBe(key.kid);
    }
    expect(KEYS.operator.kid).toBe('9bNHqynAhuF2LEPlekVLj4HnRjh3uZms9eNJ3XV1Ft4');
    expect(KEYS.operator.jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: '5JiNBfmOUr8r8MKtptosXQ4f9c0H2cSoXCFHtejMqVs' });
  });

  it('round-trips PKCS8 PEM, SPKI PEM and JWK to the same kid', () => {
    const key = generateSigningKey('record');
    expect(key.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(key.kid).not.toBe(generateSigningKey('record').kid);
    expect(signingKeyFromPem(exportPrivateKeyPem(key), 'record').kid).toBe(key.kid);
    expect(verifyKeyFromPem(exportPublicKeyPem(key), 'record').kid).toBe(key.kid);
    expect(verifyKeyFromJwk(key.jwk, 'record').kid).toBe(key.kid);
    expect(exportPrivateKeyPem(KEYS.operator).trim()).toBe(FIXTURE_PEMS.operator);
  });

  it('keeps the job and hands out only the public half on request', () => {
    const pub = toPublicKey(KEYS.wmpAudit);
    expect(pub.job).toBe('audit-checkpoint');
    expect(pub).not.toHaveProperty('privateKey');
    expect(Object.isFrozen(KEYS.wmpAudit)).toBe(true);
  });

  it('loads keys from files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcx-signing-'));
    await writeFile(join(dir, 'record.pem'), FIXTURE_PEMS.wmpRecord1, { mode: 0o600 });
    await writeFile(join(dir, 'operator.pub.pem'), exportPublicKeyPem(KEYS.operator));
    expect((await loadSigningKey(join(dir, 'record.pem'), 'record')).kid).toBe(KEYS.wmpRecord1.kid);
    expect((await loadVerifyKey(join(dir, 'operator.pub.pem'), 'manifest')).kid).toBe(KEYS.operator.kid);
    await expect(loadSigningKey(join(dir, 'missing.pem'), 'record')).rejects.toMatchObject({ code: 'KEY_UNREADABLE' });
  });

  it('refuses keys that are not Ed25519, not keys, private JWKs and unknown jobs', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(thrownCode(() => signingKeyFromPem(ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'record'))).toBe(
      'KEY_INVALID',
    );
    expect(thrownCode(() => verifyKeyFromPem(ec.publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'record'))).toBe(
      'KEY_INVALID',
    );
    expect(thrownCode(() => signingKeyFromPem('not a pem', 'record'))).toBe('KEY_INVALID');
    expect(thrownCode(() => verifyKeyFromPem(FIXTURE_PEMS.operator, 'manifest'))).toBe('KEY_INVALID');
    const privateJwk = KEYS.stranger.privateKey.export({ format: 'jwk' });
    expect(thrownCode(() => verifyKeyFromJwk(privateJwk, 'record'))).toBe('KEY_INVALID');
    expect(thrownCode(() => verifyKeyFromJwk({ ...KEYS.stranger.jwk, crv: 'Ed448' }, 'record'))).toBe('KEY_INVALID');
    expect(thrownCode(() => signingKeyFromPem(FIXTURE_PEMS.stranger, 'signing' as 'record'))).toBe('KEY_INVALID');
  });
});
