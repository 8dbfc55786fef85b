import { ristretto255_oprf } from '@noble/curves/ed25519.js';

import { McxError } from '@mcx/errors';

import { LinkageErrorCode } from './linkage-errors.js';
import type { LinkageEvaluator } from './oprf-client.js';

const { oprf } = ristretto255_oprf;

/** A versioned OPRF secret key held only by the linkage service. `key` is 32 bytes, hex. */
export interface LinkageKey {
  version: string;
  key: string;
}

/** Order of the ristretto255 group. */
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

function secretKeyBytes(key: LinkageKey): Uint8Array {
  const bytes = /^[0-9a-f]{64}$/i.test(key.key) ? Uint8Array.from(Buffer.from(key.key, 'hex')) : null;
  // Scalars are little-endian and must lie in 1..order-1.
  const scalar = bytes ? BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`) : 0n;
  if (!bytes || scalar === 0n || scalar >= GROUP_ORDER) {
    throw new McxError(LinkageErrorCode.LINKAGE_KEY_INVALID, `linkage key ${key.version} must be a 32-byte ristretto255 scalar in hex`);
  }
  return bytes;
}

/** A fresh random OPRF secret key (RFC 9497 ristretto255-SHA512, OPRF mode). */
export function generateOprfKey(version: string): LinkageKey {
  const { secretKey } = oprf.generateKeyPair();
  return { version, key: Buffer.from(secretKey).toString('hex') };
}

/** An OPRF key derived from a 32-byte seed (RFC 9497 DeriveKeyPair): for tests and fixtures. */
export function deriveOprfKey(version: string, seed: Uint8Array, info = 'mcx-linkage'): LinkageKey {
  const { secretKey } = oprf.deriveKeyPair(seed, new TextEncoder().encode(info));
  return { version, key: Buffer.from(secretKey).toString('hex') };
}

/**
 * Service side: evaluate blinded elements under the secret key. The service sees only
 * blinded points, never inputs. Rejects non-canonical encodings and the identity point.
 */
export function evaluateBatch(key: LinkageKey, blinded: readonly Uint8Array[]): Uint8Array[] {
  const sk = secretKeyBytes(key);
  return blinded.map((b, i) => {
    try {
      return oprf.blindEvaluate(sk, b);
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
