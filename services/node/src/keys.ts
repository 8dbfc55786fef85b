import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  exportPrivateKeyPem,
  generateSigningKey,
  loadSigningKey,
  signingKeyFromPem,
  toPublicKey,
  verifyKeyFromPem,
  type SigningKey,
  type VerifyKey,
} from '@mcx/signing';

/** The node's three Ed25519 keys, one per job, each with its own kid and JWS typ. */
export interface NodeKeys {
  record: SigningKey<'record'>;
  peerToken: SigningKey<'peer-token'>;
  auditCheckpoint: SigningKey<'audit-checkpoint'>;
}

/**
 * The key of the HMAC the audit log keeps of a query's linkage keys (the same child's reads share
 * a digest, which auditors group by in an export). Kept in this file once pinned, so that it
 * outlives the audit-checkpoint key it was first derived from: `mcx keys activate --job
 * audit-checkpoint` pins it before the rotation, so digests stay the same across it.
 */
export const LINKAGE_DIGEST_FILE = 'linkage-digest.key';

/** The linkage-digest key derived from an audit-checkpoint key: what a node without LINKAGE_DIGEST_FILE uses. */
export function linkageDigestKeyOf(auditKey: SigningKey<'audit-checkpoint'>): Buffer {
  return createHash('sha256')
    .update('mcx-linkage-digest/1')
    .update(auditKey.privateKey.export({ format: 'der', type: 'pkcs8' }))
    .digest();
}

/** The pinned linkage-digest key in `dir` (32 bytes, base64url on one line), or null when there is none; a malformed file is refused. */
export function readLinkageDigestKey(dir: string): Buffer | null {
  const file = path.join(dir, LINKAGE_DIGEST_FILE);
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8').trim();
  const key = /^[A-Za-z0-9_-]{43}$/.test(text) ? Buffer.from(text, 'base64url') : null;
  if (!key || key.length !== 32 || key.toString('base64url') !== text)
    throw new Error(`${file} must hold one 32-byte key as base64url (43 characters); it is never edited by hand`);
  return key;
}

/**
 * Pins the linkage-digest key in `dir` as the current audit-checkpoint key derives it, unless one
 * is pinned already; true when it wrote the file. Run before the audit-checkpoint key is retired.
 */
export function pinLinkageDigestKey(dir: string, auditKey: SigningKey<'audit-checkpoint'>): boolean {
  if (readLinkageDigestKey(dir)) return false;
  writeFileSync(path.join(dir, LINKAGE_DIGEST_FILE), `${linkageDigestKeyOf(auditKey).toString('base64url')}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  return true;
}

export const KEY_FILES = { record: 'record.pem', peerToken: 'peer-token.pem', auditCheckpoint: 'audit-checkpoint.pem' } as const;

/** Fresh keys in memory (tests, and `mcx keys generate`). */
export function generateNodeKeys(): NodeKeys {
  return {
    record: generateSigningKey('record'),
    peerToken: generateSigningKey('peer-token'),
    auditCheckpoint: generateSigningKey('audit-checkpoint'),
  };
}

/** Writes PKCS8 PEM files, readable by their owner only. Refuses to overwrite a key. */
export function writeNodeKeys(dir: string, keys: NodeKeys): void {
  // Parents keep the default mode (an embedded server must traverse them); the key folder is private.
  mkdirSync(path.dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [job, file] of Object.entries(KEY_FILES) as [keyof NodeKeys, string][]) {
    const target = path.join(dir, file);
    if (existsSync(target)) throw new Error(`${target} exists; a key is never overwritten (rotate instead)`);
    writeFileSync(target, exportPrivateKeyPem(keys[job]), { mode: 0o600, flag: 'wx' });
  }
}

/** Loads the three keys from `dir`, parsing each once. */
export async function loadNodeKeys(dir: string): Promise<NodeKeys> {
  return {
    record: await loadSigningKey(path.join(dir, KEY_FILES.record), 'record'),
    peerToken: await loadSigningKey(path.join(dir, KEY_FILES.peerToken), 'peer-token'),
    auditCheckpoint: await loadSigningKey(path.join(dir, KEY_FILES.auditCheckpoint), 'audit-checkpoint'),
  };
}

/**
 * The public halves of the audit-checkpoint keys a rotation retired: `audit-checkpoint.<kid>.retired.pem`
 * (the private key `mcx keys activate` left in `dir`) or `audit-checkpoint.<kid>.retired.pub.pem` (its
 * public half alone, `mcx audit public-key --kid <kid>`, which is all a node needs). The checkpoints
 * they signed still vouch for the older part of the log. None when `dir` does not exist.
 */
export function retiredAuditKeys(dir: string): VerifyKey<'audit-checkpoint'>[] {
  if (!existsSync(dir)) return [];
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const keys = readdirSync(dir)
    .sort()
    .flatMap((f) => {
      if (/^audit-checkpoint\..+\.retired\.pub\.pem$/.test(f)) return [verifyKeyFromPem(read(f), 'audit-checkpoint')];
      if (/^audit-checkpoint\..+\.retired\.pem$/.test(f)) return [toPublicKey(signingKeyFromPem(read(f), 'audit-checkpoint'))];
      return [];
    });
  return [...new Map(keys.map((k) => [k.kid, k])).values()];
}

/**
 * Loads the keys, or (outside production, when none exist yet) generates them first, so
 * `npm start` works from a fresh clone. Production never generates keys on its own.
 */
export async function loadOrCreateNodeKeys(dir: string, opts: { allowGenerate: boolean }): Promise<NodeKeys> {
  if (!existsSync(path.join(dir, KEY_FILES.record)) && opts.allowGenerate) writeNodeKeys(dir, generateNodeKeys());
  return loadNodeKeys(dir);
}

/** The node's public keys as trust-manifest entries (all active), for `addMember`. */
export function manifestKeys(
  keys: NodeKeys,
): { kid: string; job: 'record' | 'peer-token' | 'audit-checkpoint'; jwk: SigningKey['jwk']; status: 'active' }[] {
  return [keys.record, keys.peerToken, keys.auditCheckpoint].map((k) => ({
    kid: k.kid,
    job: k.job,
    jwk: k.jwk,
    status: 'active' as const,
  }));
}
