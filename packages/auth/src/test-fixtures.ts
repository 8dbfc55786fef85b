/**
 * Fixed keys, issuers and a frozen clock for this package's tests. These keys are public
 * test material: never configure them anywhere.
 */
import { base64url, importJWK, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';

import type { IssuerConfig } from './issuers.js';

/** The frozen clock of every test. */
export const FIXED_NOW = new Date('2025-03-01T12:00:00.000Z');
export const NOW_SEC = FIXED_NOW.getTime() / 1000;

/** Private test keys: a local authority IdP (Ed25519), a force's Entra tenant (P-256), a provider IdP, and a stranger. */
export const PRIVATE_JWKS = {
  la: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: 'KIp1L1LdxlZwskeXaWMlyL8bpKMb0NlhhFaOdbEsyzg',
    x: '2mw8PnlzmvHWfT3Y_76o9wcMNgK2Upfrzto9JYmywzI',
  },
  entra: {
    kty: 'EC',
    crv: 'P-256',
    d: 'gvFqv37lemnJrhDei9h3FUED5FPqc3T8mzEhwa1Vc3s',
    x: 'onKLcwhp4V1bePanKIOLoaEkNMfp8dnbNJJ8q2Ctfnc',
    y: 's6i0L2hE1nwT3byduQpRqCmq78UXMjuLxiD2g4OdJOo',
  },
  provider: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: 'RhonEN64Sb6dYFEuLZgEwK7Xrz3iwdNnZnAtCW-fmpM',
    x: 'n12ZYDYEHX1bqngR2gmPybeHBMa9x3_lMiIPLjfHanI',
  },
  stranger: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: 'f9ZK3aGEsF3-rPQYksJNLGKeY7f5oa5FEHLnnFaypdA',
    x: 'kESMal8XYNMSmukGBd08FQcL9pm-kPF9KHYXr-qoSv8',
  },
} satisfies Record<string, JWK>;
export type KeyName = keyof typeof PRIVATE_JWKS;

export const KIDS: Record<KeyName, string> = {
  la: 'la-key-1',
  entra: 'entra-key-1',
  provider: 'provider-key-1',
  stranger: 'stranger-key-1',
};
export const ALGS: Record<KeyName, 'EdDSA' | 'ES256'> = {
  la: 'EdDSA',
  entra: 'ES256',
  provider: 'EdDSA',
  stranger: 'EdDSA',
};

/** The public half of a test key, as it appears in a JWKS. */
export function publicJwk(name: KeyName): JWK {
  const { d: _d, ...pub } = PRIVATE_JWKS[name];
  return { ...pub, kid: KIDS[name], alg: ALGS[name], use: 'sig' };
}

export const LA_ISSUER: IssuerConfig = {
  id: 'bhm-la',
  issuer: 'https://idp.birmingham.example.gov.uk',
  audience: 'api://mcx-node-wmp',
  jwks: { keys: [publicJwk('la')] },
  algorithms: ['EdDSA'],
  force: 'LA-BHM',
  orgKind: 'local_authority',
  typ: 'at+jwt',
  claimMapping: 'plain',
  roleMap: { 'mcx.investigate': 'investigator', 'mcx.publish': 'publisher', 'mcx.audit': 'auditor' },
};

export const ENTRA_TENANT = '0a1b2c3d-0000-4000-8000-000000000001';
// Entra signs with RS256; the P-256 key keeps the fixture short and tests the same paths.
export const ENTRA_ISSUER: IssuerConfig = {
  id: 'wmp-entra',
  issuer: `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`,
  audience: 'api://mcx-node-wmp',
  jwks: { keys: [publicJwk('entra')] },
  algorithms: ['ES256'],
  force: 'WMP',
  orgKind: 'police',
  claimMapping: 'entra',
  roleMap: {
    'MCX.Publisher': 'publisher',
    'MCX.Investigator': 'investigator',
    'MCX.Auditor': 'auditor',
    'MCX.Router': 'router',
    'Records.Read': 'investigator',
  },
};

export const PROVIDER_ISSUER: IssuerConfig = {
  id: 'rhi-provider',
  issuer: 'https://auth.return-interviews.example.org',
  audience: 'api://mcx-node-wmp',
  jwks: { keys: [publicJwk('provider')] },
  algorithms: ['EdDSA'],
  force: 'PRV-RHI',
  orgKind: 'provider',
  typ: 'at+jwt',
  claimMapping: 'plain',
};

const keyCache = new Map<KeyName, Promise<CryptoKey>>();
function privateKey(name: KeyName): Promise<CryptoKey> {
  let key = keyCache.get(name);
  if (!key) {
    key = importJWK(PRIVATE_JWKS[name], ALGS[name]) as Promise<CryptoKey>;
    keyCache.set(name, key);
  }
  return key;
}

/** Claims of a valid local-authority investigator token at FIXED_NOW. */
export function laClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: LA_ISSUER.issuer,
    aud: LA_ISSUER.audience,
    sub: 'la-user-4711',
    roles: ['mcx.investigate'],
    iat: NOW_SEC - 60,
    exp: NOW_SEC + 600,
    ...overrides,
  };
}

/** Signs `claims` with a test key; header defaults are alg, kid and typ `at+jwt`. `undefined` header values are removed. */
export async function signWith(
  name: KeyName,
  claims: Record<string, unknown>,
  header: Partial<Record<keyof JWTHeaderParameters, unknown>> = {},
): Promise<string> {
  const merged: Record<string, unknown> = { alg: ALGS[name], kid: KIDS[name], typ: 'at+jwt', ...header };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return new SignJWT(claims).setProtectedHeader(merged as JWTHeaderParameters).sign(await privateKey(name));
}

/** Encodes a JSON value as base64url, for hand-built tokens. */
export function b64json(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}
