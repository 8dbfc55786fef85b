import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { McxError } from '@mcx/errors';

import { KeyErrorCode } from './signing-errors.js';

/** Every job a key can have. A key signs for exactly one job, and each job has its own `typ`. */
export const KEY_JOBS = ['record', 'peer-token', 'audit-checkpoint', 'manifest'] as const;

/** The job of a key: what it is allowed to sign. `manifest` is the federation operator's job only. */
export type KeyJob = (typeof KEY_JOBS)[number];

/** The jobs a member's keys may have in the trust manifest (never `manifest`). */
export const MEMBER_KEY_JOBS = ['record', 'peer-token', 'audit-checkpoint'] as const;

/** A job a member key may have. */
export type MemberKeyJob = (typeof MEMBER_KEY_JOBS)[number];

/** The JWS `typ` header for each job; every verify checks it. */
export const JOB_TYP = {
  record: 'mcx-record+jws',
  'peer-token': 'mcx-peer+jwt',
  'audit-checkpoint': 'mcx-checkpoint+jws',
  manifest: 'mcx-manifest+jws',
} as const satisfies Record<KeyJob, string>;

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

/** A public key ready to verify: parsed once, with its job and RFC 7638 `kid`. */
export interface VerifyKey<J extends KeyJob = KeyJob> {
  readonly kid: string;
  readonly job: J;
  readonly publicKey: KeyObject;
  readonly jwk: Ed25519PublicJwk;
}

/** A private key ready to sign for one job; holds the parsed `KeyObject`s so nothing is reparsed per signature. */
export interface SigningKey<J extends KeyJob = KeyJob> extends VerifyKey<J> {
  readonly privateKey: KeyObject;
}

/** RFC 7638 thumbprint of an Ed25519 JWK (equal to jose `calculateJwkThumbprint(jwk, 'sha256')`). */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":${JSON.stringify(jwk.x)}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/** True if `value` is a well-formed Ed25519 public JWK (32-byte `x`). */
export function isEd25519PublicJwk(value: unknown): value is Ed25519PublicJwk {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jwk.x) && !('d' in jwk);
}

function assertEd25519(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new McxError(KeyErrorCode.KEY_INVALID, `${what} is ${key.asymmetricKeyType ?? key.type}, not Ed25519`);
  }
}

function publicJwkOf(publicKey: KeyObject): Ed25519PublicJwk {
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new McxError(KeyErrorCode.KEY_INVALID, 'Ed25519 public key has no x');
  return { kty: 'OKP', crv: 'Ed25519', x };
}

function assertJob(job: unknown): void {
  if (!(KEY_JOBS as readonly unknown[]).includes(job)) throw new McxError(KeyErrorCode.KEY_INVALID, `unknown key job ${String(job)}`);
}

function toVerifyKey<J extends KeyJob>(publicKey: KeyObject, job: J): VerifyKey<J> {
  assertJob(job);
  assertEd25519(publicKey, 'public key');
  const jwk = publicJwkOf(publicKey);
  return Object.freeze({ kid: jwkThumbprint(jwk), job, publicKey, jwk });
}

function toSigningKey<J extends KeyJob>(privateKey: KeyObject, job: J): SigningKey<J> {
  assertEd25519(privateKey, 'private key');
  const verifyKey = toVerifyKey(createPublicKey(privateKey), job);
  return Object.freeze({ ...verifyKey, privateKey });
}

/** Generates a fresh Ed25519 signing key for one job. */
export function generateSigningKey<J extends KeyJob>(job: J): SigningKey<J> {
  return toSigningKey(generateKeyPairSync('ed25519').privateKey, job);
}

/** Parses a PKCS8 PEM Ed25519 private key for one job; throws `KEY_INVALID` otherwise. */
export function signingKeyFromPem<J extends KeyJob>(pem: string, job: J): SigningKey<J> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new McxError(KeyErrorCode.KEY_INVALID, 'not a PEM private key', { cause });
  }
  return toSigningKey(privateKey, job);
}

/** Reads a PKCS8 PEM Ed25519 private key file for one job. */
export async function loadSigningKey<J extends KeyJob>(path: string, job: J): Promise<SigningKey<J>> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    throw new McxError(KeyErrorCode.KEY_UNREADABLE, `cannot read key file ${path}`, { cause });
  }
  return signingKeyFromPem(pem, job);
}

/** Parses an SPKI PEM Ed25519 public key for one job. */
export function verifyKeyFromPem<J extends KeyJob>(pem: string, job: J): VerifyKey<J> {
  // createPublicKey would quietly derive a public key from a private PEM; a private key in a
  // place meant for public material is a mistake worth stopping.
  if (/PRIVATE KEY-----/.test(pem)) throw new McxError(KeyErrorCode.KEY_INVALID, 'expected a public key PEM, got a private key');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new McxError(KeyErrorCode.KEY_INVALID, 'not a PEM public key', { cause });
  }
  return toVerifyKey(publicKey, job);
}

/** Reads an SPKI PEM Ed25519 public key file for one job (for example the pinned operator key). */
export async function loadVerifyKey<J extends KeyJob>(path: string, job: J): Promise<VerifyKey<J>> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    throw new McxError(KeyErrorCode.KEY_UNREADABLE, `cannot read key file ${path}`, { cause });
  }
  return verifyKeyFromPem(pem, job);
}

/** Parses an Ed25519 public JWK for one job; refuses private JWKs and other key types. */
export function verifyKeyFromJwk<J extends KeyJob>(jwk: unknown, job: J): VerifyKey<J> {
  if (!isEd25519PublicJwk(jwk)) throw new McxError(KeyErrorCode.KEY_INVALID, 'not an Ed25519 public JWK');
  return toVerifyKey(publicKeyObjectFromJwk(jwk), job);
}

/** Parses an Ed25519 public JWK into a `KeyObject` (no job, no kid: the low-level step). */
export function publicKeyObjectFromJwk(jwk: Ed25519PublicJwk): KeyObject {
  try {
    return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  } catch (cause) {
    throw new McxError(KeyErrorCode.KEY_INVALID, 'cannot parse Ed25519 JWK', { cause });
  }
}

/** Exports the private key as PKCS8 PEM (for writing a key file). */
export function exportPrivateKeyPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Exports the public key as SPKI PEM. */
export function exportPublicKeyPem(key: VerifyKey): string {
  return key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

/** Returns only the public half of a key, safe to hand around. */
export function toPublicKey<J extends KeyJob>(key: VerifyKey<J>): VerifyKey<J> {
  return Object.freeze({ kid: key.kid, job: key.job, publicKey: key.publicKey, jwk: key.jwk });
}
