import { exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import { IssuerConfigSchema, productionIssuerProblems, type IssuerConfig } from './issuers.js';
import { b64json, ENTRA_ISSUER, FIXED_NOW, LA_ISSUER, laClaims, NOW_SEC, PROVIDER_ISSUER, publicJwk, signWith } from './test-fixtures.js';
import { createTokenVerifier, readBearerToken, requireClientToken, requireUserToken } from './verify-token.js';

const verifier = createTokenVerifier({
  issuers: [LA_ISSUER, ENTRA_ISSUER, PROVIDER_ISSUER],
  now: () => FIXED_NOW,
});

async function refusal(promise: Promise<unknown>): Promise<McxError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McxError);
  return error as McxError;
}

async function codeOf(jwt: string): Promise<string> {
  return (await refusal(verifier.verify(jwt))).code;
}

describe('createTokenVerifier: accepted tokens', () => {
  it('verifies a valid plain-mapped user token into a Viewer', async () => {
    const viewer = await verifier.verify(await signWith('la', laClaims()));
    expect(viewer).toEqual({
      subject: 'la-user-4711',
      issuer: LA_ISSUER.issuer,
      force: 'LA-BHM',
      orgKind: 'local_authority',
      roles: ['investigator'],
      tokenKind: 'user',
    });
  });

  it('accepts expiry within the clock tolerance and application/at+jwt', async () => {
    const jwt = await signWith('la', laClaims({ exp: NOW_SEC - 10 }), { typ: 'application/at+jwt' });
    await expect(verifier.verify(jwt)).resolves.toMatchObject({ subject: 'la-user-4711' });
  });

  it('returns the verified claims with verifyWithClaims', async () => {
    const jwt = await signWith('la', laClaims({ mcx_purpose: 'MISSING_LIVE_SEARCH' }));
    const { claims, header } = await verifier.verifyWithClaims(jwt);
    expect(claims.mcx_purpose).toBe('MISSING_LIVE_SEARCH');
    expect(header.kid).toBe('la-key-1');
  });
});

describe('createTokenVerifier: refusals', () => {
  it('refuses alg none', async () => {
    const jwt = `${b64json({ alg: 'none', typ: 'at+jwt' })}.${b64json(laClaims())}.`;
    expect(await codeOf(jwt)).toBe('TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses HS256 signed with the public key bytes (JWK JSON and SPKI PEM)', async () => {
    const jwk = publicJwk('la');
    const pem = await exportSPKI((await importJWK(jwk, 'EdDSA', { extractable: true })) as CryptoKey);
    for (const secret of [JSON.stringify(jwk), pem, String(jwk.x)]) {
      const jwt = await new SignJWT(laClaims())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'la-key-1' })
        .sign(new TextEncoder().encode(secret));
      expect(await codeOf(jwt)).toBe('TOKEN_ALG_NOT_ALLOWED');
    }
  });

  it('refuses an allowed algorithm that this issuer does not use', async () => {
    const jwt = await signWith('la', { ...laClaims(), iss: ENTRA_ISSUER.issuer });
    expect(await codeOf(jwt)).toBe('TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses a token claiming another configured issuer (key not in that issuer set)', async () => {
    const claims = laClaims({ iss: LA_ISSUER.issuer });
    expect(await codeOf(await signWith('provider', claims))).toBe('TOKEN_UNKNOWN_KID');
    expect(await codeOf(await signWith('provider', claims, { kid: 'la-key-1' }))).toBe('TOKEN_BAD_SIGNATURE');
  });

  it('refuses an issuer that is not configured', async () => {
    const jwt = await signWith('la', laClaims({ iss: 'https://idp.elsewhere.example' }));
    expect(await codeOf(jwt)).toBe('TOKEN_UNKNOWN_ISSUER');
  });

  it('refuses a wrong or missing audience', async () => {
    expect(await codeOf(await signWith('la', laClaims({ aud: 'api://mcx-node-mps' })))).toBe('TOKEN_WRONG_AUDIENCE');
    expect(await codeOf(await signWith('la', laClaims({ aud: undefined })))).toBe('TOKEN_WRONG_AUDIENCE');
  });

  it('refuses an expired token, keeping the jose error as cause', async () => {
    const error = await refusal(verifier.verify(await signWith('la', laClaims({ exp: NOW_SEC - 31 }))));
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect((error.cause as { code: string }).code).toBe('ERR_JWT_EXPIRED');
  });

  it('refuses a token that is not yet valid', async () => {
    expect(await codeOf(await signWith('la', laClaims({ nbf: NOW_SEC + 120 })))).toBe('TOKEN_NOT_YET_VALID');
  });

  it('refuses a token without exp', async () => {
    expect(await codeOf(await signWith('la', laClaims({ exp: undefined })))).toBe('TOKEN_MALFORMED');
  });

  it('refuses an unknown kid', async () => {
    expect(await codeOf(await signWith('stranger', laClaims()))).toBe('TOKEN_UNKNOWN_KID');
  });

  it.each(['jku', 'x5u', 'jwk', 'x5c'])('refuses a %s header without following it', async (name) => {
    const value = name === 'jwk' ? publicJwk('stranger') : name === 'x5c' ? ['MIIB'] : 'http://127.0.0.1:9/jwks.json';
    const jwt = await signWith('stranger', laClaims(), { [name]: value });
    expect(await codeOf(jwt)).toBe('TOKEN_FORBIDDEN_HEADER');
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await signWith('la', laClaims())).split('.');
    const tampered = b64json(laClaims({ roles: ['mcx.investigate', 'mcx.audit'] }));
    expect(await codeOf(`${header}.${tampered}.${signature}`)).toBe('TOKEN_BAD_SIGNATURE');
  });

  it('refuses a wrong or missing typ when the issuer requires one', async () => {
    expect(await codeOf(await signWith('la', laClaims(), { typ: 'JWT' }))).toBe('TOKEN_WRONG_TYP');
    expect(await codeOf(await signWith('la', laClaims(), { typ: undefined }))).toBe('TOKEN_WRONG_TYP');
  });

  it('refuses a token that maps to no MCX role', async () => {
    expect(await codeOf(await signWith('la', laClaims({ roles: ['Directory.Read'] })))).toBe('TOKEN_NO_ROLES');
  });

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['five parts (JWE)', 'a.b.c.d.e'],
    ['header not JSON', 'bm90anNvbg.e30.c2ln'],
    ['too long', `${'a'.repeat(20_000)}.b.c`],
  ])('refuses a malformed token: %s', async (_label, jwt) => {
    expect(await codeOf(jwt)).toBe('TOKEN_MALFORMED');
  });

  it('refuses a token without iss as malformed', async () => {
    expect(await codeOf(await signWith('la', laClaims({ iss: undefined })))).toBe('TOKEN_MALFORMED');
  });
});

describe('token kind', () => {
  it('refuses a client-credentials token used as a user token', async () => {
    const jwt = await signWith('la', laClaims({ roles: ['mcx.publish'], mcx_token_kind: 'client' }));
    const viewer = await verifier.verify(jwt);
    expect(viewer.tokenKind).toBe('client');
    expect(() => requireUserToken(viewer)).toThrow(expect.objectContaining({ code: 'TOKEN_WRONG_KIND' }));
    expect(requireClientToken(viewer)).toBe(viewer);
  });

  it('refuses a user token where a client token is required', async () => {
    const viewer = await verifier.verify(await signWith('la', laClaims()));
    expect(() => requireClientToken(viewer)).toThrow(expect.objectContaining({ code: 'TOKEN_WRONG_KIND' }));
  });
});

describe('issuer configuration', () => {
  const bad = (patch: Partial<IssuerConfig> & Record<string, unknown>): IssuerConfig => ({ ...LA_ISSUER, ...patch }) as IssuerConfig;

  it.each([
    ['HS256', bad({ algorithms: ['HS256'] as never })],
    ['none', bad({ algorithms: ['none'] as never })],
    ['no algorithms', bad({ algorithms: [] })],
    ['both jwks and jwksUrl', bad({ jwksUrl: 'https://idp.example/jwks' })],
    ['neither jwks nor jwksUrl', bad({ jwks: undefined })],
    ['plain http JWKS off loopback', bad({ jwks: undefined, jwksUrl: 'http://idp.example/jwks' })],
    ['a private key in the JWKS', bad({ jwks: { keys: [{ ...publicJwk('la'), d: 'secret' }] } })],
    ['a symmetric key in the JWKS', bad({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })],
    // Every audit entry of its users holds the issuer: printable ASCII, at most 256 characters.
    ['an issuer outside printable ASCII', bad({ issuer: 'https://idp.example/r\u00e9gion' })],
    ['an issuer over 256 characters', bad({ issuer: `https://idp.example/${'a'.repeat(240)}` })],
    ['a force that is not a code', bad({ force: 'West Midlands' })],
  ])('refuses %s', (_label, config) => {
    expect(() => createTokenVerifier({ issuers: [config] })).toThrow(expect.objectContaining({ code: 'AUTH_CONFIG_INVALID' }));
  });

  it('refuses two configs for the same iss', () => {
    expect(() => createTokenVerifier({ issuers: [LA_ISSUER, { ...LA_ISSUER, id: 'again' }] })).toThrow(
      expect.objectContaining({ code: 'AUTH_CONFIG_INVALID' }),
    );
  });
});

describe('readBearerToken', () => {
  it('reads the token, returns null without a header, refuses other schemes', () => {
    expect(readBearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(readBearerToken(undefined)).toBeNull();
    expect(() => readBearerToken('Basic dXNlcjpwYXNz')).toThrow(expect.objectContaining({ code: 'TOKEN_MALFORMED' }));
  });
});

describe('productionIssuerProblems', () => {
  const base = {
    id: 'wmp-idp',
    issuer: 'https://idp.wmp.test',
    audience: 'api://mcx-wmp',
    jwksUrl: 'https://idp.wmp.test/keys',
    algorithms: ['EdDSA' as const],
    force: 'WMP',
    orgKind: 'police' as const,
    claimMapping: 'plain' as const,
    typ: 'at+jwt',
  };

  it('accepts an https JWKS issuer with an explicit typ', () => {
    expect(productionIssuerProblems([base])).toEqual([]);
  });

  it('names an issuer without an explicit typ, one over plain HTTP, and the development issuer', () => {
    const { typ: _typ, ...untyped } = base;
    expect(productionIssuerProblems([untyped])).toEqual([
      'issuer wmp-idp (https://idp.wmp.test): production requires an explicit typ (for example "at+jwt") so that no other kind of token is accepted',
    ]);
    expect(productionIssuerProblems([{ ...base, jwksUrl: 'http://idp.wmp.test/keys' }])).toEqual([
      'issuer wmp-idp (https://idp.wmp.test): production refuses JWKS URLs over plain HTTP',
    ]);
    expect(productionIssuerProblems([{ ...base, issuer: 'mcx-dev-issuer' }])).toEqual(['production refuses the development token issuer']);
  });

  it('one JWKS rule: loopback http passes the file check (development and test) but not production; inline jwks only outside production', () => {
    const loopback = { ...base, jwksUrl: 'http://127.0.0.1:8080/keys' };
    expect(IssuerConfigSchema.safeParse(loopback).success).toBe(true);
    expect(IssuerConfigSchema.safeParse({ ...base, jwksUrl: 'http://idp.wmp.test/keys' }).success).toBe(false);
    expect(productionIssuerProblems([loopback])).toEqual([
      'issuer wmp-idp (https://idp.wmp.test): production refuses JWKS URLs over plain HTTP',
    ]);
    const { jwksUrl: _url, ...rest } = base;
    const inline = { ...rest, jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] } };
    expect(IssuerConfigSchema.safeParse(inline).success).toBe(true);
    expect(productionIssuerProblems([inline])).toEqual([
      "issuer wmp-idp (https://idp.wmp.test): production refuses an inline jwks: set jwksUrl to the issuer's https JWKS (a private CA: NODE_EXTRA_CA_CERTS)",
    ]);
  });
});
