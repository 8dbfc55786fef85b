/*
 * The libsodium OPRF against @noble/curves' ristretto255_oprf, which computed every linkage
 * key stored before it: any byte of difference would re-key every subject.
 */
import { randomBytes, randomInt } from 'node:crypto';

import { ristretto255_hasher, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';

import { nobleEvaluate, oprfCases, outputsDigest } from '../bench/oprf-cases.js';
import { blindAll, finalizeAll } from './oprf-client.js';
import { deriveOprfKey, evaluateBatch, generateOprfKey } from './oprf-server.js';
import { blindElement, evaluateElement, finalizeElement, GROUP_ORDER, hashToGroup, randomScalar } from './oprf-suite.js';

const noble = ristretto255_oprf.oprf;
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const keyOf = (scalar: Uint8Array) => ({ version: 'x', key: toHex(scalar) });
const scalarLE = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const randomText = () =>
  Array.from({ length: randomInt(0, 40) }, () =>
    String.fromCodePoint(randomInt(0, 3) === 0 ? randomInt(0x80, 0x2fff) : randomInt(32, 127)),
  ).join('');

/** Printed by bench/oprf-noble-digest.ts: @noble/curves' outputs for oprfCases(10_000). */
const NOBLE_DIGEST_10000 =
  '527c48c00f61c3d7927412aa90029e2cc9bb0bff8a543a2eea9063f409ae2bd1eb9a0517f1fe3c24512640c44440008c820e3900832fce4bad4b78146fd330e7';
const CASES = oprfCases(10_000);

describe('libsodium OPRF = @noble/curves ristretto255_oprf', () => {
  const outputs: Uint8Array[] = [];

  it('10,000 random inputs under 10,000 random keys, full rounds with fresh blinds: byte-identical outputs', () => {
    for (const c of CASES) {
      const blind = randomScalar();
      const evaluated = evaluateElement(c.key, blindElement(c.input, blind));
      outputs.push(finalizeElement(c.input, blind, evaluated));
    }
    expect(outputsDigest(outputs)).toBe(NOBLE_DIGEST_10000);
    // About 7 s on an idle core (0.7 ms a round); the margin is for a machine busy with other runs.
  }, 120_000);

  it('250 of those cases, drawn afresh each run, recomputed by @noble/curves here', () => {
    expect(outputs).toHaveLength(CASES.length);
    for (let n = 0; n < 250; n++) {
      const i = randomInt(CASES.length);
      const c = CASES[i]!;
      expect(toHex(outputs[i]!), `case ${i}`).toBe(toHex(nobleEvaluate(c.key, c.input)));
    }
  });

  it('blinds, evaluates and finalises interchangeably with @noble/curves, step by step (public API, random text)', () => {
    for (let n = 0; n < 60; n++) {
      const key = generateOprfKey('k');
      const sk = Buffer.from(key.key, 'hex');
      const text = randomText();
      const input = new TextEncoder().encode(text);
      // The same random source gives the same blind, so the same blinded element.
      const source = randomBytes(48);
      const ours = blindAll([text], () => source);
      const theirs = noble.blind(input, () => source);
      expect(toHex(ours.state.blinds[0]!)).toBe(toHex(theirs.blind));
      expect(toHex(ours.blinded[0]!)).toBe(toHex(theirs.blinded));
      const evaluated = evaluateBatch(key, ours.blinded);
      expect(toHex(evaluated[0]!)).toBe(toHex(noble.blindEvaluate(sk, ours.blinded[0]!)));
      const output = noble.finalize(input, theirs.blind, evaluated[0]!);
      expect(toHex(finalizeElement(input, ours.state.blinds[0]!, evaluated[0]!))).toBe(toHex(output));
      expect(finalizeAll(ours.state, evaluated)).toEqual([Buffer.from(output.subarray(0, 32)).toString('base64url')]);
    }
  });

  it('hashes to the group as @noble/curves does under the RFC 9497 tag', () => {
    for (let n = 0; n < 100; n++) {
      const input = randomBytes(randomInt(0, 80));
      const theirs = ristretto255_hasher.hashToCurve(input, { DST: 'HashToGroup-OPRFV1-\x00-ristretto255-SHA512' });
      expect(toHex(hashToGroup(input))).toBe(toHex(theirs.toBytes()));
    }
  });

  it('derives the same key pairs as @noble/curves (RFC 9497 DeriveKeyPair)', () => {
    for (let n = 0; n < 200; n++) {
      const seed = randomBytes(32);
      const info = randomText();
      const theirs = noble.deriveKeyPair(seed, new TextEncoder().encode(info));
      expect(deriveOprfKey('v', seed, info).key).toBe(toHex(theirs.secretKey));
    }
  });

  it('accepts and refuses the same 32-byte encodings as @noble/curves, with the same results', () => {
    const key = generateOprfKey('k');
    const sk = Buffer.from(key.key, 'hex');
    let accepted = 0;
    const candidates = [new Uint8Array(32), new Uint8Array(32).fill(0xff), ...Array.from({ length: 1500 }, () => randomBytes(32))];
    // Non-canonical: p and p + 2 encode 0 and 2 out of range.
    const p = 2n ** 255n - 19n;
    candidates.push(scalarLE(p), scalarLE(p + 2n));
    for (const b of candidates) {
      let theirs: string;
      try {
        theirs = toHex(noble.blindEvaluate(sk, b));
      } catch {
        theirs = 'refused';
      }
      let ours: string;
      try {
        ours = toHex(evaluateBatch(key, [b])[0]!);
      } catch (e) {
        expect(e).toMatchObject({ code: 'LINKAGE_BLINDED_INVALID' });
        ours = 'refused';
      }
      expect(ours, toHex(b)).toBe(theirs);
      if (ours !== 'refused') accepted++;
    }
    // Random strings decode about one time in eight: both branches ran.
    expect(accepted).toBeGreaterThan(50);
    expect(accepted).toBeLessThan(1000);
  });

  it('uses scalars whole (no clamping): 1 and order - 1 give the point and its negation', () => {
    const point = ristretto255_hasher.hashToCurve(randomBytes(16));
    const encoded = point.toBytes();
    expect(toHex(evaluateElement(scalarLE(1n), encoded))).toBe(toHex(encoded));
    expect(toHex(evaluateElement(scalarLE(GROUP_ORDER - 1n), encoded))).toBe(toHex(point.negate().toBytes()));
    // X25519-style clamping would clear the low three bits of 9 and set bit 254.
    expect(toHex(evaluateElement(scalarLE(9n), encoded))).toBe(toHex(point.multiply(9n).toBytes()));
    expect(() => evaluateBatch(keyOf(scalarLE(5n)), [new Uint8Array(32)])).toThrowError(
      expect.objectContaining({ code: 'LINKAGE_BLINDED_INVALID' }),
    );
  });

  it('draws random scalars in 1..order-1, spread evenly over the range', () => {
    const drawn = Array.from({ length: 2000 }, () => Buffer.from(randomScalar()).reverse().toString('hex')).map((h) => BigInt(`0x${h}`));
    expect(new Set(drawn).size).toBe(drawn.length);
    for (const s of drawn) expect(s > 0n && s < GROUP_ORDER).toBe(true);
    // The mean of 2,000 uniform draws is within 0.03 of half the order (over 4 standard
    // deviations); and each quarter of the range gets its share (about 500, allow 400-600).
    const fractions = drawn.map((s) => Number((s * 1_000_000n) / GROUP_ORDER) / 1_000_000);
    expect(Math.abs(fractions.reduce((a, b) => a + b, 0) / drawn.length - 0.5)).toBeLessThan(0.03);
    for (let q = 0; q < 4; q++) {
      const inQuarter = fractions.filter((f) => f >= q / 4 && f < (q + 1) / 4).length;
      expect(inQuarter).toBeGreaterThan(400);
      expect(inQuarter).toBeLessThan(600);
    }
  });
});
