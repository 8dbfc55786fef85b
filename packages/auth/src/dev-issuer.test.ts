import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

import { createDevIssuer, DEV_ISSUER, DEV_TOKEN_TYP, devAudience, isDevIssuer } from './dev-issuer.js';
import { FIXED_NOW, LA_ISSUER, NOW_SEC, PRIVATE_JWKS } from './test-fixtures.js';
import { createTokenVerifier } from './verify-token.js';

const fixedKey = PRIVATE_JWKS.stranger;

describe('createDevIssuer', () => {
  it('mints a token the verifier accepts, with typ at+jwt and the dev issuer', async () => {
    const dev = await createDevIssuer({ privateJwk: fixedKey, now: () => FIXED_NOW });
    const verifier = createTokenVerifier({ issuers: [dev.issuerConfig({ force: 'WMP' })], now: () => FIXED_NOW });
    const jwt = await dev.mintToken({
      role: 'investigator',
      force: 'WMP',
      orgKind: 'police',
      subject: 'dc-1234',
      kind: 'user',
      ttlSec: 900,
      purpose: 'MISSING_LIVE_SEARCH',
      caseRef: 'WMP-25-000123',
    });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'EdDSA', typ: DEV_TOKEN_TYP, kid: dev.kid });
    expect(decodeJwt(jwt)).toMatchObject({
      iss: DEV_ISSUER,
      aud: devAudience('WMP'),
      iat: NOW_SEC,
      exp: NOW_SEC + 900,
      mcx_purpose: 'MISSING_LIVE_SEARCH',
      mcx_case_ref: 'WMP-25-000123',
    });
    const { viewer, claims } = await verifier.verifyWithClaims(jwt);
    expect(viewer).toEqual({
      subject: 'dc-1234',
      issuer: DEV_ISSUER,
      force: 'WMP',
      orgKind: 'police',
      roles: ['investigator'],
      tokenKind: 'user',
    });
    expect(claims.mcx_case_ref).toBe('WMP-25-000123');
  });

  it('mints client tokens for another organisation kind', async () => {
    const dev = await createDevIssuer({ privateJwk: fixedKey, now: () => FIXED_NOW });
    const verifier = createTokenVerifier({ issuers: [dev.issuerConfig({ force: 'WMP' })], now: () => FIXED_NOW });
    const jwt = await dev.mintToken({
      roles: ['publisher'],
      force: 'LA-BHM',
      orgKind: 'local_authority',
      subject: 'bhm-care-system',
      kind: 'client',
      ttlSec: 300,
      audience: devAudience('WMP'),
    });
    expect(await verifier.verify(jwt)).toMatchObject({
      force: 'LA-BHM',
      orgKind: 'local_authority',
      tokenKind: 'client',
    });
  });

  it('is stable for a loaded key and fresh for a generated one', async () => {
    const a = await createDevIssuer({ privateJwk: fixedKey });
    const b = await createDevIssuer({ privateJwk: a.privateJwk });
    const fresh = await createDevIssuer();
    expect(b.kid).toBe(a.kid);
    expect(fresh.kid).not.toBe(a.kid);
    expect(JSON.stringify(a.jwks)).not.toContain('"d"');
    const reloaded = await createDevIssuer({ privateJwk: fresh.privateJwk });
    expect(reloaded.jwks).toEqual(fresh.jwks);
  });

  it('expires tokens after ttlSec', async () => {
    const dev = await createDevIssuer({ privateJwk: fixedKey, now: () => FIXED_NOW });
    const later = new Date(FIXED_NOW.getTime() + 120_000);
    const verifier = createTokenVerifier({ issuers: [dev.issuerConfig({ force: 'WMP' })], now: () => later });
    const jwt = await dev.mintToken({ role: 'auditor', force: 'WMP', orgKind: 'police', subject: 'dpo', kind: 'user', ttlSec: 60 });
    await expect(verifier.verify(jwt)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it.each([
    ['no role', { roles: [] }],
    ['an unknown role', { role: 'superuser' }],
    ['a zero ttl', { ttlSec: 0 }],
    ['a fractional ttl', { ttlSec: 1.5 }],
  ])('refuses to mint with %s', async (_label, patch) => {
    const dev = await createDevIssuer({ privateJwk: fixedKey });
    const base = { force: 'WMP', orgKind: 'police', subject: 's', kind: 'user', ttlSec: 60, role: 'investigator' } as const;
    const options = { ...base, ...patch } as Parameters<typeof dev.mintToken>[0];
    if ('roles' in patch) delete (options as { role?: unknown }).role;
    await expect(dev.mintToken(options)).rejects.toMatchObject({ code: 'DEV_ISSUER_INVALID' });
  });

  it('refuses a key that is not a private Ed25519 JWK', async () => {
    await expect(createDevIssuer({ privateJwk: PRIVATE_JWKS.entra })).rejects.toMatchObject({
      code: 'DEV_ISSUER_INVALID',
    });
  });

  it('isDevIssuer tells the development issuer apart', async () => {
    const dev = await createDevIssuer({ privateJwk: fixedKey });
    expect(isDevIssuer(dev.issuerConfig({ force: 'WMP' }))).toBe(true);
    expect(isDevIssuer(LA_ISSUER)).toBe(false);
  });
});
