import { jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import { baseManifest, KEYS, NOW } from './fixtures/test-federation.js';
import { b64u, craftJws, thrownCode } from './fixtures/test-helpers.js';
import { signingKeyFromPem, toPublicKey } from './keys.js';
import { addKey, setKeyStatus } from './manifest-edit.js';
import { InMemoryManifestStore, TrustManifestHolder } from './manifest-holder.js';
import { signManifest } from './manifest-signature.js';
import type { TrustManifest } from './manifest.js';
import { signNodeToken, verifyNodeToken } from './node-token.js';

// A fixed GMP peer-token key (test use only), so that GMP can sign tokens too.
const GMP_PEER = signingKeyFromPem(
  `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICX3KGExyvTIYc1d2bV6SFUCZuXxCAa9PP6CEpZqvnuS
-----END PRIVATE KEY-----`,
  'peer-token',
);
// A peer-token key that no manifest lists.
const STRANGER_PEER = signingKeyFromPem(
  `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIEt3SKsL47u+7c3JNKWCPqenmvAa1BdxI5a6oaLC/1ds
-----END PRIVATE KEY-----`,
  'peer-token',
);

const AUD = 'mcx-linkage';
const T0 = Math.floor(NOW.getTime() / 1000);
const JTI = '00000000-0000-4000-8000-000000000001';
const HEADER = { alg: 'EdDSA', kid: KEYS.wmpPeerToken.kid, typ: 'mcx-peer+jwt' };
const EXPECTED_JWT =
  'eyJhbGciOiJFZERTQSIsImtpZCI6IlNXVFJCS3NTYktwTUpESE1fMmhMNzNudnBKa3djRzk4ZTZnUVIwdmpuMWMiLCJ0eXAiOiJtY3gtcGVlcitqd3QifQ' +
  '.eyJwdXJwb3NlIjoibGlua2FnZSIsImlzcyI6IldNUCIsImF1ZCI6Im1jeC1saW5rYWdlIiwiaWF0IjoxNzQwODMwNDAwLCJleHAiOjE3NDA4MzA0MzAsImp0aSI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMSJ9' +
  '.kWQhxdk9PjsZuZXAweTNfppT5LDoBtAsr0UgjXLMi_MUIXL9woXcG07GFtwIm5Zj3K48oRgXypFZqnsjwQPvDA';
const CLAIMS = { iss: 'WMP', aud: AUD, iat: T0, exp: T0 + 30, jti: JTI };

async function holderFor(manifest: TrustManifest): Promise<TrustManifestHolder> {
  const holder = new TrustManifestHolder({ operatorKey: toPublicKey(KEYS.operator), store: new InMemoryManifestStore(), now: () => NOW });
  await holder.accept(signManifest(manifest, KEYS.operator));
  return holder;
}

const federation = () => addKey(baseManifest(), 'GMP', GMP_PEER);
const wmpToken = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  craftJws({ ...HEADER, ...header }, JSON.stringify({ ...CLAIMS, ...overrides }), KEYS.wmpPeerToken.privateKey);

describe('node tokens', () => {
  it('signs an exact JWT that verifies here and with jose', async () => {
    const holder = await holderFor(federation());
    const jwt = signNodeToken({ iss: 'WMP', aud: AUD, ttlSec: 30, jti: JTI, claims: { purpose: 'linkage' } }, KEYS.wmpPeerToken, NOW);
    const [h, p] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual(HEADER);
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual({ purpose: 'linkage', ...CLAIMS });
    // Ed25519 is deterministic: fixed key, clock and jti give this token byte for byte.
    expect(jwt).toBe(EXPECTED_JWT);

    expect(verifyNodeToken(jwt, holder, { audience: AUD, now: NOW })).toEqual({
      member: 'WMP',
      claims: { purpose: 'linkage', ...CLAIMS },
      jti: JTI,
      exp: T0 + 30,
    });
    const { protectedHeader, payload } = await jwtVerify(jwt, KEYS.wmpPeerToken.publicKey, {
      audience: AUD,
      issuer: 'WMP',
      currentDate: NOW,
      typ: 'mcx-peer+jwt',
    });
    expect(protectedHeader).toEqual(HEADER);
    expect(payload.jti).toBe(JTI);
  });

  it('gives each token a fresh random jti by default', () => {
    const a = signNodeToken({ iss: 'WMP', aud: AUD, ttlSec: 10 }, KEYS.wmpPeerToken, NOW);
    const b = signNodeToken({ iss: 'WMP', aud: AUD, ttlSec: 10 }, KEYS.wmpPeerToken, NOW);
    const jti = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti as string;
    expect(jti(a)).toMatch(/^[0-9a-f-]{36}$/);
    expect(jti(a)).not.toBe(jti(b));
  });

  it('refuses to sign with another key, a long lifetime or reserved claims', () => {
    const sign = (input: Partial<Parameters<typeof signNodeToken>[0]>, key = KEYS.wmpPeerToken) =>
      thrownCode(() => signNodeToken({ iss: 'WMP', aud: AUD, ttlSec: 30, ...input }, key, NOW));
    expect(sign({}, KEYS.wmpRecord1 as never)).toBe('KEY_NOT_FOR_JOB');
    expect(sign({ ttlSec: 61 })).toBe('NODE_TOKEN_INVALID');
    expect(sign({ ttlSec: 0 })).toBe('NODE_TOKEN_INVALID');
    expect(sign({ iss: '' })).toBe('NODE_TOKEN_INVALID');
    expect(sign({ claims: { iss: 'GMP' } })).toBe('NODE_TOKEN_INVALID');
    expect(sign({ claims: { exp: T0 + 3600 } })).toBe('NODE_TOKEN_INVALID');
  });

  it('accepts clock skew within the leeway on both sides', async () => {
    const holder = await holderFor(federation());
    const jwt = wmpToken();
    expect(verifyNodeToken(jwt, holder, { audience: AUD, now: new Date((T0 + 34) * 1000) }).member).toBe('WMP');
    expect(verifyNodeToken(jwt, holder, { audience: AUD, now: new Date((T0 - 5) * 1000) }).member).toBe('WMP');
    expect(verifyNodeToken(wmpToken({ aud: ['other', AUD] }), holder, { audience: AUD, now: NOW }).member).toBe('WMP');
  });

  describe('refuses every kind of bad token with its code', () => {
    const withRecordKey = addKey(federation(), 'WMP', KEYS.wmpRecord2);
    const revoked = signingKeyFromPem(
      `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIMcb1Mc/ayjVP7d3IwSjdn9qLYxIq6r5oG/Z274cZWRC
-----END PRIVATE KEY-----`,
      'peer-token',
    );
    const manifest = setKeyStatus(addKey(withRecordKey, 'WMP', revoked), revoked.kid, 'revoked');
    const body = JSON.stringify(CLAIMS);
    const [h, , s] = wmpToken().split('.');
    const gmpNamingWmp = craftJws({ ...HEADER, kid: GMP_PEER.kid }, body, GMP_PEER.privateKey);

    let holder: TrustManifestHolder;
    beforeAll(async () => {
      holder = await holderFor(manifest);
    });

    const cases: Array<[string, string, string]> = [
      ['garbage', 'not a jwt', 'NODE_TOKEN_MALFORMED'],
      ['detached', `${h}..${s}`, 'NODE_TOKEN_MALFORMED'],
      ['payload not JSON', craftJws(HEADER, 'nope', KEYS.wmpPeerToken.privateKey), 'NODE_TOKEN_MALFORMED'],
      ['no jti', wmpToken({ jti: undefined }), 'NODE_TOKEN_MALFORMED'],
      ['exp before iat', wmpToken({ exp: T0 - 1 }), 'NODE_TOKEN_MALFORMED'],
      ['jku header', wmpToken({}, { jku: 'https://evil.example/jwks' }), 'NODE_TOKEN_MALFORMED'],
      ['x5u header', wmpToken({}, { x5u: 'https://evil.example/cert' }), 'NODE_TOKEN_MALFORMED'],
      ['x5c header', wmpToken({}, { x5c: ['MIIB'] }), 'NODE_TOKEN_MALFORMED'],
      ['jwk header', wmpToken({}, { jwk: STRANGER_PEER.jwk }), 'NODE_TOKEN_MALFORMED'],
      ['crit header', wmpToken({}, { crit: ['exp'] }), 'NODE_TOKEN_MALFORMED'],
      ['record typ', wmpToken({}, { typ: 'mcx-record+jws' }), 'NODE_TOKEN_WRONG_TYP'],
      ['plain JWT typ', wmpToken({}, { typ: 'JWT' }), 'NODE_TOKEN_WRONG_TYP'],
      ['alg none', wmpToken({}, { alg: 'none' }), 'NODE_TOKEN_WRONG_ALG'],
      ['unlisted key', craftJws({ ...HEADER, kid: STRANGER_PEER.kid }, body, STRANGER_PEER.privateKey), 'NODE_TOKEN_UNKNOWN_KEY'],
      ['revoked key', craftJws({ ...HEADER, kid: revoked.kid }, body, revoked.privateKey), 'NODE_TOKEN_REVOKED_KEY'],
      ['record key', craftJws({ ...HEADER, kid: KEYS.wmpRecord2.kid }, body, KEYS.wmpRecord2.privateKey), 'NODE_TOKEN_KEY_NOT_FOR_JOB'],
      ['tampered payload', `${h}.${b64u(JSON.stringify({ ...CLAIMS, iss: 'GMP' }))}.${s}`, 'NODE_TOKEN_BAD_SIGNATURE'],
      ['signed by a stranger under a WMP kid', craftJws(HEADER, body, STRANGER_PEER.privateKey), 'NODE_TOKEN_BAD_SIGNATURE'],
      ['iss not a member', wmpToken({ iss: 'XYZ' }), 'NODE_TOKEN_NOT_MEMBER'],
      ['GMP key naming WMP in iss', gmpNamingWmp, 'NODE_TOKEN_NOT_MEMBER'],
      ['other audience', wmpToken({ aud: 'mcx-node-gmp' }), 'NODE_TOKEN_WRONG_AUDIENCE'],
      ['no audience', wmpToken({ aud: undefined }), 'NODE_TOKEN_WRONG_AUDIENCE'],
      ['expired', wmpToken({ iat: T0 - 60, exp: T0 - 6 }), 'NODE_TOKEN_EXPIRED'],
      ['too long', wmpToken({ exp: T0 + 61 }), 'NODE_TOKEN_TOO_LONG'],
      ['issued in the future', wmpToken({ iat: T0 + 6, exp: T0 + 36 }), 'NODE_TOKEN_NOT_YET_VALID'],
      ['nbf in the future', wmpToken({ nbf: T0 + 6 }), 'NODE_TOKEN_NOT_YET_VALID'],
    ];
    it.each(cases.map(([name, jwt, code]) => [name, code, jwt] as const))('%s: %s', (_name, code, jwt) => {
      expect(thrownCode(() => verifyNodeToken(jwt, holder, { audience: AUD, now: NOW }))).toBe(code);
    });

    it("the member's real token still passes under the same holder, and GMP's own", () => {
      expect(verifyNodeToken(wmpToken(), holder, { audience: AUD, now: NOW }).member).toBe('WMP');
      expect(
        verifyNodeToken(
          craftJws({ ...HEADER, kid: GMP_PEER.kid }, JSON.stringify({ ...CLAIMS, iss: 'GMP' }), GMP_PEER.privateKey),
          holder,
          {
            audience: AUD,
            now: NOW,
          },
        ).member,
      ).toBe('GMP');
    });
  });

  it('refuses when no manifest is loaded rather than trust nothing', () => {
    const holder = new TrustManifestHolder({ operatorKey: toPublicKey(KEYS.operator), store: new InMemoryManifestStore(), now: () => NOW });
    expect(thrownCode(() => verifyNodeToken(wmpToken(), holder, { audience: AUD, now: NOW }))).toBe('MANIFEST_NOT_LOADED');
  });
});
