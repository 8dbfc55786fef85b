import { McxError } from '@mcx/errors';

import { LinkageErrorCode } from './linkage-errors.js';
import type { LinkageEvaluator } from './oprf-client.js';
import { deriveKeyScalar, evaluateElement, isNonZeroScalar, randomScalar } from './oprf-suite.js';

/** A versioned OPRF secret key held only by the linkage service. `key` is 32 bytes, hex. */
export interface LinkageKey {
  version: string;
  key: string;
}

function secretKeyBytes(key: LinkageKey): Uint8Array {
  const bytes = /^[0-9a-f]{64}$/i.test(key.key) ? Uint8Array.from(Buffer.from(key.key, 'hex')) : null;
  // Scalars are little-endian and must lie in 1..order-1.
  if (!bytes || !isNonZeroScalar(bytes)) {
    throw new McxError(LinkageErrorCode.LINKAGE_KEY_INVALID, `linkage key ${key.version} must be a 32-byte ristretto255 scalar in hex`);
  }
  return bytes;
}

/** A fresh random OPRF secret key (RFC 9497 ristretto255-SHA512, OPRF mode). */
export function generateOprfKey(version: string): LinkageKey {
  return { version, key: Buffer.from(randomScalar()).toString('hex') };
}

/** An OPRF key derived from a 32-byte seed (RFC 9497 DeriveKeyPair): for tests and fixtures. */
export function deriveOprfKey(version: string, seed: Uint8Array, info = 'mcx-linkage'): LinkageKey {
  return { version, key: Buffer.from(deriveKeyScalar(seed, new TextEncoder().encode(info))).toString('hex') };
}

/**
 * Service side: evaluate blinded elements under the secret key. The service sees only
 * blinded points, never inputs. Rejects non-canonical encodings and the identity point.
 */
export function evaluateBatch(key: LinkageKey, blinded: readonly Uint8Array[]): Uint8Array[] {
  const sk = secretKeyBytes(key);
  return blinded.map((b, i) => {
    try {
      return evaluateElement(sk, b);
    } catch (cause) {
      throw new McxError(LinkageErrorCode.LINKAGE_BLINDED_INVALID, `blinded element ${i} is not a valid ristretto255 point`, { cause });
    }
  });
}

/** A LinkageEvaluator that runs in-process with a given key (tests, demo, benchmarks). */
export function createInProcessEvaluator(key: LinkageKey): LinkageEvaluator & { calls: number } {
  const evaluator = {
    calls: 0,
    async evaluate(blinded: Uint8Array[]) {
      evaluator.calls++;
      return { keyVersion: key.version, evaluated: evaluateBatch(key, blinded) };
    },
  };
  return evaluator;
}
