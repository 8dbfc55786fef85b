import { createHash, type KeyObject } from 'node:crypto';

// Internal: the record and checkpoint signatures this process has already verified, so that a
// record read again (a node's own stored rows, checked before every use; another member's records
// in every answer about the same child), or the checkpoint a member quotes in every receipt until
// it cuts the next, costs a SHA-256 instead of an Ed25519 verification (about 20x cheaper).
//
// What is remembered is only "these exact bytes, this exact protected header and this exact
// signature verified under this public key, and what they signed passed every check": the digest
// covers all three (for a checkpoint, its base64url payload), so a single changed byte misses and
// is verified afresh. Key status is
// not remembered: the caller resolves the kid (revoked, unknown, wrong job) before asking, every
// time. Failures are never remembered.
// Entries are kept per KeyObject: each node's manifest holder parses its own, so two nodes in one
// process never vouch for each other; a revoked key's entries are never consulted, because its
// kid no longer resolves.

/** Entries kept per public key; the least recently used go first. About 150 bytes each. */
export const VERIFIED_PER_KEY = 16_384;

const byKey = new WeakMap<KeyObject, Map<string, true>>();

/** The digest naming one (header, signature, payload bytes) triple; the signature's fixed 64 bytes keep the split unambiguous. */
export function verifiedDigest(encodedHeader: string, signature: Buffer, bytes: string): string {
  return createHash('sha256').update(encodedHeader).update('.').update(signature).update(bytes).digest('base64');
}

/** True when this triple was verified under `publicKey` before (and marks it recently used). */
export function wasVerified(publicKey: KeyObject, digest: string): boolean {
  const seen = byKey.get(publicKey);
  if (seen === undefined || !seen.delete(digest)) return false;
  seen.set(digest, true);
  return true;
}

/** Remembers a triple that has just verified under `publicKey`. */
export function rememberVerified(publicKey: KeyObject, digest: string): void {
  let seen = byKey.get(publicKey);
  if (seen === undefined) {
    seen = new Map();
    byKey.set(publicKey, seen);
  }
  seen.set(digest, true);
  if (seen.size > VERIFIED_PER_KEY) seen.delete(seen.keys().next().value as string);
}
