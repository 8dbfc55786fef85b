/**
 * The development token issuer: one Ed25519 key that mints tokens for the demo, the tests
 * and `mcx token mint`. A production node refuses any issuer for which isDevIssuer() holds.
 */
import { randomUUID } from 'node:crypto';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';

import { McxError } from '@mcx/errors';

import { AuthConfigErrorCode } from './auth-errors.js';
import { DEV_ISSUER, type IssuerConfig } from './issuers.js';
import { isOrgKind, isRole, type OrgKind, type Role, type TokenKind } from './viewer.js';

export { DEV_ISSUER, isDevIssuer } from './issuers.js';

/** The `typ` header of every development token (RFC 9068 access token). */
export const DEV_TOKEN_TYP = 'at+jwt';
const MAX_TTL_SEC = 7 * 24 * 3600;

/** Options for DevIssuer.mintToken. */
export interface MintTokenOptions {
  /** One or more MCX roles (at least one of `role` and `roles`). */
  role?: Role;
  roles?: Role[];
  /** Force or authority code the token speaks for (`mcx_force`). */
  force: string;
  orgKind: OrgKind;
  subject: string;
  kind: TokenKind;
  ttlSec: number;
  /** Defaults to devAudience(force). */
  audience?: string;
  purpose?: string;
  caseRef?: string;
  /** Issue time; defaults to the issuer's clock. */
  now?: Date;
}

/** A loaded or generated development issuer. */
export interface DevIssuer {
  readonly issuer: typeof DEV_ISSUER;
  readonly kid: string;
  /** The public key set, to serve or to place in an IssuerConfig. */
  readonly jwks: JSONWebKeySet;
  /** The private key as a JWK, for the CLI to persist and reload. Never serve it. */
  readonly privateJwk: JWK;
  /** An IssuerConfig that accepts this issuer's tokens at a node with the given audience. */
  issuerConfig(options: { force: string; orgKind?: OrgKind; audience?: string }): IssuerConfig;
  /** Signs an access token the verifier accepts. */
  mintToken(options: MintTokenOptions): Promise<string>;
}

/** The audience a development token carries by default for a node of `force`. */
export function devAudience(force: string): string {
  return `mcx-node:${force}`;
}

function invalid(message: string): McxError {
  return new McxError(AuthConfigErrorCode.DEV_ISSUER_INVALID, message);
}

function mintRoles(options: MintTokenOptions): Role[] {
  const roles = [...new Set([...(options.role ? [options.role] : []), ...(options.roles ?? [])])];
  if (roles.length === 0 || !roles.every(isRole)) throw invalid('mintToken needs at least one valid role');
  return roles;
}

/** Loads the development issuer from a private Ed25519 JWK, or generates a fresh key when none is given. */
export async function createDevIssuer(options: { privateJwk?: JWK; now?: () => Date } = {}): Promise<DevIssuer> {
  let privateJwk: JWK;
  if (options.privateJwk) {
    const { kty, crv, d, x } = options.privateJwk;
    if (kty !== 'OKP' || crv !== 'Ed25519' || typeof d !== 'string' || typeof x !== 'string') {
      throw invalid('The development key must be a private Ed25519 JWK');
    }
    privateJwk = { kty, crv, d, x };
  } else {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const { kty, crv, d, x } = await exportJWK(privateKey);
    privateJwk = { kty, crv, d, x };
  }
  const publicJwk: JWK = { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x };
  const kid = await calculateJwkThumbprint(publicJwk);
  const key = (await importJWK(privateJwk, 'EdDSA')) as CryptoKey;
  const clock = options.now ?? (() => new Date());
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }] };

  return {
    issuer: DEV_ISSUER,
    kid,
    jwks,
    privateJwk: { ...privateJwk, kid },
    issuerConfig({ force, orgKind = 'police', audience = devAudience(force) }) {
      return {
        id: 'dev',
        issuer: DEV_ISSUER,
        audience,
        jwks: structuredClone(jwks),
        algorithms: ['EdDSA'],
        force,
        orgKind,
        typ: DEV_TOKEN_TYP,
        claimMapping: 'plain',
      };
    },
    async mintToken(mint) {
      const roles = mintRoles(mint);
      if (!Number.isInteger(mint.ttlSec) || mint.ttlSec <= 0 || mint.ttlSec > MAX_TTL_SEC) {
        throw invalid(`ttlSec must be an integer between 1 and ${MAX_TTL_SEC}`);
      }
      if (!isOrgKind(mint.orgKind)) throw invalid(`Unknown orgKind ${String(mint.orgKind)}`);
      if (!mint.subject || !mint.force) throw invalid('subject and force are required');
      const iat = Math.floor((mint.now ?? clock()).getTime() / 1000);
      const claims: Record<string, unknown> = {
        roles,
        mcx_token_kind: mint.kind,
        mcx_force: mint.force,
        mcx_org_kind: mint.orgKind,
        ...(mint.kind === 'client' ? { client_id: mint.subject } : {}),
        ...(mint.purpose === undefined ? {} : { mcx_purpose: mint.purpose }),
        ...(mint.caseRef === undefined ? {} : { mcx_case_ref: mint.caseRef }),
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: DEV_TOKEN_TYP, kid })
        .setIssuer(DEV_ISSUER)
        .setSubject(mint.subject)
        .setAudience(mint.audience ?? devAudience(mint.force))
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + mint.ttlSec)
        .setJti(randomUUID())
        .sign(key);
    },
  };
}
