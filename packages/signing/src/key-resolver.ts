import type { KeyObject } from 'node:crypto';

import type { KeyJob, VerifyKey } from './keys.js';

/** Why a kid does not give a usable key. */
export type KeyLookupFailure = 'UNKNOWN_KEY' | 'REVOKED_KEY' | 'KEY_NOT_FOR_JOB';

/** The answer of a `KeyResolver`: the parsed public key and its job, or why there is none. */
export type KeyLookup = { found: true; kid: string; job: KeyJob; publicKey: KeyObject } | { found: false; reason: KeyLookupFailure };

/** Resolves a `kid` to a public key. Synchronous, so verification stays on the fast path. */
export type KeyResolver = (kid: string) => KeyLookup;

/** A resolver over a fixed list of keys (a node's own keys, tests); unlisted kids are `UNKNOWN_KEY`. */
export function keyResolverFromKeys(keys: readonly VerifyKey[]): KeyResolver {
  const byKid = new Map(keys.map((key) => [key.kid, key] as const));
  return (kid) => {
    const key = byKid.get(kid);
    return key ? { found: true, kid, job: key.job, publicKey: key.publicKey } : { found: false, reason: 'UNKNOWN_KEY' };
  };
}
