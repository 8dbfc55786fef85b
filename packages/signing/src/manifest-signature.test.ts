import { describe, expect, it } from 'vitest';

import { baseManifest, KEYS, NOW } from './fixtures/test-federation.js';
import { b64u, craftJws, thrownCode } from './fixtures/test-helpers.js';
import { toPublicKey } from './keys.js';
import { signManifest, verifyManifest } from './manifest-signature.js';

const pinned = toPublicKey(KEYS.operator);
const at = (iso: string) => ({ now: new Date(iso), highestVersionSeen: 0 });
const manifest = baseManifest();
const jws = signManifest(manifest, KEYS.operator);
const header = { alg: 'EdDSA', kid: KEYS.operator.kid, typ: 'mcx-manifest+jws' };

describe('signManifest / verifyManifest', () => {
  it('round-trips a signed manifest, which is a compact JWS over canonical JSON', () => {
    expect(jws.split('.')).toHaveLength(3);
    expect(verifyManifest(jws, pinned, { now: NOW, highestVersionSeen: 0 })).toEqual({
      manifest,
      status: 'valid',
      refuseAfter: new Date('2025-04-07T12:00:00.000Z'),
    });
    expect(signManifest(manifest, KEYS.operator)).toBe(jws);
  });

  it('refuses an unsigned manifest: alg none, or the signature stripped', () => {
    const payload = b64u(JSON.stringify(manifest));
    const none = `${b64u(JSON.stringify({ alg: 'none', typ: 'mcx-manifest+jws' }))}.${payload}.`;
    expect(thrownCode(() => verifyManifest(none, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_UNSIGNED');
    const noneWithSig = `${b64u(JSON.stringify({ alg: 'none', typ: 'mcx-manifest+jws' }))}.${payload}.AAAA`;
    expect(thrownCode(() => verifyManifest(noneWithSig, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_UNSIGNED');
    const stripped = jws.replace(/[^.]+$/, '');
    expect(thrownCode(() => verifyManifest(stripped, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_UNSIGNED');
  });

  it('refuses a manifest signed by another key, or altered after signing', () => {
    const rogue = signManifest({ ...manifest, operator: { kid: KEYS.rogueOperator.kid } }, KEYS.rogueOperator);
    expect(thrownCode(() => verifyManifest(rogue, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_WRONG_SIGNER');
    // The rogue key claiming the operator's kid does not help it.
    const claimed = craftJws(header, JSON.stringify(manifest), KEYS.rogueOperator.privateKey);
    expect(thrownCode(() => verifyManifest(claimed, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_WRONG_SIGNER');
    const [h, , s] = jws.split('.');
    const altered = `${h}.${b64u(JSON.stringify({ ...manifest, graceSeconds: 99_999_999 }))}.${s}`;
    expect(thrownCode(() => verifyManifest(altered, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_WRONG_SIGNER');
    const hs256 = craftJws({ ...header, alg: 'HS256' }, JSON.stringify(manifest), KEYS.operator.privateKey);
    expect(thrownCode(() => verifyManifest(hs256, pinned, at('2025-03-02T00:00:00Z')))).toBe('MANIFEST_WRONG_SIGNER');
  });

  it('refuses a version older than the highest seen, and accepts the same version again', () => {
    expect(thrownCode(() => verifyManifest(jws, pinned, { now: NOW, highestVersionSeen: manifest.version + 1 }))).toBe('MANIFEST_ROLLBACK');
    expect(verifyManifest(jws, pinned, { now: NOW, highestVersionSeen: manifest.version }).status).toBe('valid');
  });

  it('is in-grace after validUntil, expired after the grace period, and not valid before validFrom', () => {
    expect(manifest.validUntil).toBe('2025-03-31T12:00:00.000Z');
    expect(verifyManifest(jws, pinned, at('2025-03-31T12:00:00.000Z')).status).toBe('valid');
    expect(verifyManifest(jws, pinned, at('2025-03-31T12:00:00.001Z')).status).toBe('in-grace');
    expect(verifyManifest(jws, pinned, at('2025-04-07T12:00:00.000Z')).status).toBe('in-grace');
    expect(thrownCode(() => verifyManifest(jws, pinned, at('2025-04-07T12:00:00.001Z')))).toBe('MANIFEST_EXPIRED');
    expect(thrownCode(() => verifyManifest(jws, pinned, at('2025-03-01T11:59:59.999Z')))).toBe('MANIFEST_NOT_YET_VALID');
  });

  it('refuses malformed JWS, a wrong typ, and a well-signed payload of the wrong shape', () => {
    const now = at('2025-03-02T00:00:00Z');
    expect(thrownCode(() => verifyManifest('nonsense', pinned, now))).toBe('MANIFEST_MALFORMED');
    expect(thrownCode(() => verifyManifest(`${b64u('{')}.${b64u('{}')}.AAAA`, pinned, now))).toBe('MANIFEST_MALFORMED');
    const wrongTyp = craftJws({ ...header, typ: 'mcx-record+jws' }, JSON.stringify(manifest), KEYS.operator.privateKey);
    expect(thrownCode(() => verifyManifest(wrongTyp, pinned, now))).toBe('MANIFEST_MALFORMED');
    const notJson = craftJws(header, 'not json', KEYS.operator.privateKey);
    expect(thrownCode(() => verifyManifest(notJson, pinned, now))).toBe('MANIFEST_MALFORMED');
    const badShape = craftJws(header, JSON.stringify({ ...manifest, version: '9' }), KEYS.operator.privateKey);
    expect(thrownCode(() => verifyManifest(badShape, pinned, now))).toBe('MANIFEST_MALFORMED');
    const otherOperator = craftJws(header, JSON.stringify({ ...manifest, operator: { kid: 'x' } }), KEYS.operator.privateKey);
    expect(thrownCode(() => verifyManifest(otherOperator, pinned, now))).toBe('MANIFEST_MALFORMED');
  });

  it('will not sign a malformed manifest, with a non-operator key, or for another operator', () => {
    expect(thrownCode(() => signManifest({ ...manifest, members: 'x' } as never, KEYS.operator))).toBe('MANIFEST_MALFORMED');
    expect(thrownCode(() => signManifest(manifest, KEYS.rogueOperator))).toBe('MANIFEST_WRONG_SIGNER');
    expect(thrownCode(() => signManifest(manifest, KEYS.wmpRecord1 as never))).toBe('KEY_NOT_FOR_JOB');
  });
});
