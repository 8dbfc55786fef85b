/**
 * RFC 9497 ristretto255-SHA512, OPRF mode (0x00), on libsodium compiled to WebAssembly.
 * The group arithmetic is libsodium's; hashing (expand_message_xmd, Finalize) is node:crypto's
 * SHA-512. oprf-client.ts and oprf-server.ts add batching and error codes on top.
 */
import { createHash, randomBytes } from 'node:crypto';

import sodium from 'libsodium-wrappers-sumo';

// The WebAssembly module instantiates asynchronously. Waiting once here, at module load, keeps
// blindAll, evaluateBatch and finalizeAll synchronous: ESM finishes this module before any
// importer runs.
await sodium.ready;

const ascii = (s: string) => Buffer.from(s, 'latin1');

/** contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier, mode 0x00 (OPRF). */
export const CONTEXT_STRING = Buffer.concat([ascii('OPRFV1-'), Uint8Array.of(0x00), ascii('-ristretto255-SHA512')]);
const HASH_TO_GROUP_DST = Buffer.concat([ascii('HashToGroup-'), CONTEXT_STRING]);
const DERIVE_KEY_PAIR_DST = Buffer.concat([ascii('DeriveKeyPair'), CONTEXT_STRING]);
const FINALIZE = ascii('Finalize');

/** Order of the ristretto255 group. */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const SCALAR_BYTES = 32;
/** Bytes the RFC 9497 RandomScalar draws for a 253-bit order (noble's getMinHashLength). */
const RNG_SCALAR_BYTES = 48;

const sha512 = (...parts: Uint8Array[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

const i2osp = (n: number, length: number) => {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
};

/** Inputs are length-prefixed with two bytes everywhere in RFC 9497, hence its 2^16 - 1 limit. */
function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0xffff) throw new RangeError(`OPRF input of ${bytes.length} bytes: at most 65535`);
  return i2osp(bytes.length, 2);
}

/** RFC 9380 §5.3.1 expand_message_xmd with SHA-512 (b_in_bytes 64, s_in_bytes 128). */
export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  const ell = Math.ceil(lenInBytes / 64);
  if (ell > 255 || lenInBytes > 0xffff || dst.length > 255) throw new RangeError('expand_message_xmd: length or DST too long');
  const dstPrime = Buffer.concat([dst, i2osp(dst.length, 1)]);
  const b0 = sha512(new Uint8Array(128), msg, i2osp(lenInBytes, 2), i2osp(0, 1), dstPrime);
  const out = new Uint8Array(ell * 64);
  let bi = sha512(b0, i2osp(1, 1), dstPrime);
  out.set(bi, 0);
  for (let i = 2; i <= ell; i++) {
    const x = new Uint8Array(64);
    for (let j = 0; j < 64; j++) x[j] = (b0[j] ?? 0) ^ (bi[j] ?? 0);
    bi = sha512(x, i2osp(i, 1), dstPrime);
    out.set(bi, (i - 1) * 64);
  }
  return out.subarray(0, lenInBytes);
}

/** HashToGroup: hash_to_ristretto255 under "HashToGroup-" || contextString. */
export function hashToGroup(input: Uint8Array): Uint8Array {
  lengthPrefixed(input);
  return sodium.crypto_core_ristretto255_from_hash(expandMessageXmd(input, HASH_TO_GROUP_DST, 64));
}

/** HashToScalar: expand_message_xmd to 64 bytes, reduced mod the group order. */
export function hashToScalar(msg: Uint8Array, dst: Uint8Array): Uint8Array {
  return sodium.crypto_core_ristretto255_scalar_reduce(expandMessageXmd(msg, dst, 64));
}

const bytesToBigLE = (b: Uint8Array) => (b.length ? BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`) : 0n);
const bigToBytesLE = (n: bigint, length: number) => Uint8Array.from(Buffer.from(n.toString(16).padStart(length * 2, '0'), 'hex').reverse());

/** True when `bytes` is a canonical scalar in 1..order-1 (little-endian, 32 bytes). */
export function isNonZeroScalar(bytes: Uint8Array): boolean {
  if (bytes.length !== SCALAR_BYTES) return false;
  const n = bytesToBigLE(bytes);
  return n !== 0n && n < GROUP_ORDER;
}

/**
 * RFC 9497 RandomScalar: uniform in 1..order-1. 64 bytes from node:crypto's CSPRNG reduced mod the
 * order (statistically uniform: the bias is below 2^-250), zero refused. libsodium's own
 * scalar_random calls back into JavaScript for its random bytes and cost about 16x as much here
 * (360 against 22 us): one blind per linkage key, on every search and publish.
 */
export function randomScalar(): Uint8Array {
  for (;;) {
    const scalar = sodium.crypto_core_ristretto255_scalar_reduce(randomBytes(64));
    if (isNonZeroScalar(scalar)) return scalar;
  }
}

/**
 * A blind from a caller's byte source (tests seed it), mapped exactly as @noble/curves maps
 * one (48 bytes, mod order-1, plus 1), so a seeded blind is the same under either library.
 */
export function scalarFromRng(rng: (n?: number) => Uint8Array): Uint8Array {
  const bytes = rng(RNG_SCALAR_BYTES);
  if (bytes.length !== RNG_SCALAR_BYTES) throw new RangeError(`rng gave ${bytes.length} bytes for ${RNG_SCALAR_BYTES}`);
  return bigToBytesLE((bytesToBigLE(bytes) % (GROUP_ORDER - 1n)) + 1n, SCALAR_BYTES);
}

/** RFC 9497 DeriveKeyPair (secret scalar only) from a 32-byte seed and key info. */
export function deriveKeyScalar(seed: Uint8Array, info: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError(`DeriveKeyPair seed must be 32 bytes, got ${seed.length}`);
  const msg = Buffer.concat([seed, lengthPrefixed(info), info, Uint8Array.of(0)]);
  for (let counter = 0; counter <= 255; counter++) {
    msg[msg.length - 1] = counter;
    const sk = hashToScalar(msg, DERIVE_KEY_PAIR_DST);
    if (isNonZeroScalar(sk)) return sk;
  }
  throw new Error('DeriveKeyPairError');
}

/*
 * crypto_scalarmult_ristretto255 decodes the element (rejecting non-canonical encodings),
 * multiplies by the scalar with only bit 255 cleared (no clamping: every scalar here is below
 * the order, so it is used whole, as RFC 9497 requires), and refuses an identity result.
 * Every scalar passed is non-zero and the group has prime order, so an identity result means
 * the identity element came in: RFC 9497 §3.3 requires refusing it. Both cases throw.
 */

/** Blind(input): blind · HashToGroup(input), as its 32-byte encoding. */
export function blindElement(input: Uint8Array, blind: Uint8Array): Uint8Array {
  return sodium.crypto_scalarmult_ristretto255(blind, hashToGroup(input));
}

/** BlindEvaluate: skS · blindedElement. Throws on an invalid or identity element. */
export function evaluateElement(secretKey: Uint8Array, blinded: Uint8Array): Uint8Array {
  return sodium.crypto_scalarmult_ristretto255(secretKey, blinded);
}

/** Finalize: the 64-byte output. Throws on an invalid or identity evaluated element. */
export function finalizeElement(input: Uint8Array, blind: Uint8Array, evaluated: Uint8Array): Uint8Array {
  const unblinded = sodium.crypto_scalarmult_ristretto255(sodium.crypto_core_ristretto255_scalar_invert(blind), evaluated);
  return sha512(lengthPrefixed(input), input, i2osp(unblinded.length, 2), unblinded, FINALIZE);
}
