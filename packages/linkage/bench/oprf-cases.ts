/**
 * Reproducible OPRF cases (input bytes and a secret key each) for cross-checking the
 * libsodium OPRF against @noble/curves' ristretto255_oprf: src/oprf-equivalence.test.ts runs
 * them, bench/oprf-noble-digest.ts recomputes the expected digest with @noble/curves.
 */
import { createHash } from 'node:crypto';

import { ristretto255_oprf } from '@noble/curves/ed25519.js';

const ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

export interface OprfCase {
  input: Uint8Array;
  /** 32-byte little-endian scalar in 1..order-1. */
  key: Uint8Array;
}

/** SHA-512 in counter mode under a label: the same bytes on every machine. */
function stream(label: string): (n: number) => Uint8Array {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (n) => {
    while (pool.length < n) {
      const block = createHash('sha512').update(`${label}|${counter++}`).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = Uint8Array.from(pool.subarray(0, n));
    pool = pool.subarray(n);
    return out;
  };
}

const toBigLE = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
const toBytesLE = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());

/**
 * `count` cases: inputs of 0 to 95 random bytes (a fifth of them UTF-8 key-input-like text), and
 * a fresh key each, uniform mod the order from 64 bytes.
 */
export function oprfCases(count: number, label = 'mcx-oprf-equivalence-v1'): OprfCase[] {
  const next = stream(label);
  const cases: OprfCase[] = [];
  while (cases.length < count) {
    const [lengthByte = 0, kindByte = 0] = next(2);
    const input =
      kindByte % 5 === 0
        ? new TextEncoder().encode(`v1|name_dob|${Buffer.from(next(6)).toString('base64')}|ø|${lengthByte}`)
        : next(lengthByte % 96);
    const key = toBigLE(next(64)) % ORDER;
    if (key !== 0n) cases.push({ input, key: toBytesLE(key) });
  }
  return cases;
}

/**
 * @noble/curves' RFC 9497 Evaluate (the unblinded PRF, one scalar multiplication): present at
 * run time in OPRF mode but missing from its types.
 */
export const nobleEvaluate = (ristretto255_oprf.oprf as unknown as { evaluate(secretKey: Uint8Array, input: Uint8Array): Uint8Array })
  .evaluate;

/** SHA-512 over every 64-byte output in order: one value stands for all of them. */
export function outputsDigest(outputs: readonly Uint8Array[]): string {
  const h = createHash('sha512');
  for (const o of outputs) h.update(o);
  return h.digest('hex');
}
