import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import { deriveLinkageKeys } from './derive-keys.js';
import { buildKeyInputs } from './keys.js';
import { blindAll, finalizeAll, type LinkageEvaluator } from './oprf-client.js';
import { createInProcessEvaluator, deriveOprfKey, evaluateBatch, generateOprfKey } from './oprf-server.js';
import { blindElement, finalizeElement, hashToGroup } from './oprf-suite.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const now = new Date('2025-06-01T00:00:00Z');
const KEY_A = deriveOprfKey('2025-01', new Uint8Array(32).fill(1));
const KEY_B = deriveOprfKey('2025-07', new Uint8Array(32).fill(2));
const child = { forename: 'Olivia', surname: 'Hart', dob: '2009-04-02', sex: 'F' as const, nhsNumber: '9990000026' };

describe('RFC 9497 ristretto255-SHA512 OPRF mode (appendix A.1.1)', () => {
  // Seed a3..a3, KeyInfo "test key"; both vectors share the blind.
  const skSm = '5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e';
  const blind = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';
  const vectors = [
    {
      input: '00',
      blinded: '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c',
      evaluated: '7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e',
      output:
        '527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6',
    },
    {
      input: '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a',
      blinded: 'da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418',
      evaluated: 'b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25',
      output:
        'f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73',
    },
  ];

  it('derives the RFC key from its seed and key info', () => {
    expect(deriveOprfKey('rfc', new Uint8Array(32).fill(0xa3), 'test key').key).toBe(skSm);
  });

  it.each(vectors.map((v, i) => [i + 1, v] as const))('vector %i: blinds, evaluates and finalises exactly as the RFC', (_, v) => {
    const key = deriveOprfKey('rfc', new Uint8Array(32).fill(0xa3), 'test key');
    expect(toHex(blindElement(hex(v.input), hex(blind)))).toBe(v.blinded);
    expect(toHex(evaluateBatch(key, [hex(v.blinded)])[0] ?? new Uint8Array())).toBe(v.evaluated);
    expect(toHex(finalizeElement(hex(v.input), hex(blind), hex(v.evaluated)))).toBe(v.output);
    // The public path keeps the first 32 bytes, base64url.
    const state = { inputs: [hex(v.input)], blinds: [hex(blind)] };
    expect(finalizeAll(state, [hex(v.evaluated)])).toEqual([Buffer.from(v.output.slice(0, 64), 'hex').toString('base64url')]);
  });

  it('blinds through blindAll with a seeded source exactly as the RFC (rng bytes = blind - 1, mod order - 1, plus 1)', () => {
    const blindMinusOne = Buffer.from(blind, 'hex');
    blindMinusOne[0] = (blindMinusOne[0] ?? 0) - 1; // low byte is 0x64: no borrow
    const rng = () => Uint8Array.from([...blindMinusOne, ...new Uint8Array(16)]);
    const { blinded, state } = blindAll(['\x00', 'Z'.repeat(17)], rng);
    expect(blinded.map(toHex)).toEqual(vectors.map((v) => v.blinded));
    expect(state.blinds.map(toHex)).toEqual([blind, blind]);
  });
});

describe('blindAll / finalizeAll', () => {
  it('gives the same key across two blindings, different blinded elements each time', () => {
    const inputs = ['n1|x|one', 'n1|x|two'];
    const b1 = blindAll(inputs);
    const b2 = blindAll(inputs);
    expect(toHex(b1.blinded[0] ?? new Uint8Array())).not.toBe(toHex(b2.blinded[0] ?? new Uint8Array()));
    const k1 = finalizeAll(b1.state, evaluateBatch(KEY_A, b1.blinded));
    const k2 = finalizeAll(b2.state, evaluateBatch(KEY_A, b2.blinded));
    expect(k1).toEqual(k2);
    expect(k1[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k1[0]).not.toBe(k1[1]);
  });

  it('rejects a wrong number of evaluated elements and invalid points', () => {
    const { blinded, state } = blindAll(['a', 'b']);
    const evaluated = evaluateBatch(KEY_A, blinded);
    expect(() => finalizeAll(state, evaluated.slice(1))).toThrow(McxError);
    expect(() => finalizeAll(state, [evaluated[0] ?? new Uint8Array(), new Uint8Array(32)])).toThrowError(
      expect.objectContaining({ code: 'LINKAGE_EVALUATION_INVALID' }),
    );
  });
});

describe('evaluateBatch', () => {
  it('rejects bad blinded points and bad keys with codes', () => {
    expect(() => evaluateBatch(KEY_A, [new Uint8Array(32).fill(7)])).toThrowError(
      expect.objectContaining({ code: 'LINKAGE_BLINDED_INVALID' }),
    );
    expect(() => evaluateBatch(KEY_A, [new Uint8Array(32)])).toThrowError(
      expect.objectContaining({ code: 'LINKAGE_BLINDED_INVALID' }), // the identity point
    );
    for (const bad of ['00'.repeat(32), 'ff'.repeat(32), 'zz', '']) {
      expect(() => evaluateBatch({ version: 'v', key: bad }, [])).toThrowError(expect.objectContaining({ code: 'LINKAGE_KEY_INVALID' }));
    }
  });

  it('generates fresh 32-byte keys', () => {
    const a = generateOprfKey('v1');
    expect(a.version).toBe('v1');
    expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    expect(generateOprfKey('v1').key).not.toBe(a.key);
  });
});

describe('deriveLinkageKeys', () => {
  it('makes one evaluator call for all keys and is stable across blindings', async () => {
    const evaluator = createInProcessEvaluator(KEY_A);
    const first = await deriveLinkageKeys(child, evaluator, { role: 'record', now });
    const second = await deriveLinkageKeys(child, evaluator, { role: 'record', now });
    expect(evaluator.calls).toBe(2);
    expect(first).toEqual(second);
    expect(first.map((k) => [k.kind, k.strength, k.keyVersion])).toEqual(
      buildKeyInputs(child, { role: 'record' }).map((k) => [k.kind, k.strength, '2025-01']),
    );
  });

  it('gives different keys under a different OPRF key', async () => {
    const a = await deriveLinkageKeys(child, createInProcessEvaluator(KEY_A), { role: 'record', now });
    const b = await deriveLinkageKeys(child, createInProcessEvaluator(KEY_B), { role: 'record', now });
    expect(b[0]?.keyVersion).toBe('2025-07');
    const keysA = new Set(a.map((k) => k.key));
    expect(b.some((k) => keysA.has(k.key))).toBe(false);
  });

  it('links a query to a record through the OPRF exactly as the plain inputs do', async () => {
    const evaluator = createInProcessEvaluator(KEY_A);
    const record = await deriveLinkageKeys(child, evaluator, { role: 'record', now });
    const query = await deriveLinkageKeys({ ...child, forename: 'OLIVIA ', dob: '2009-02-04' }, evaluator, { role: 'query', now });
    const recordKeys = new Set(record.map((k) => k.key));
    const hits = query.filter((k) => recordKeys.has(k.key));
    expect(hits.map((k) => [k.kind, k.variant])).toEqual([
      ['nhs', undefined],
      ['name_dob', 'dob_swapped'],
      ['phonetic_name_dob', 'dob_swapped'],
      ['surname_dob_sex', 'dob_swapped'],
      ['forename_dob_sex', 'dob_swapped'],
    ]);
  });

  it('never sends the plaintext, or the unblinded hash-to-group point, to the evaluator', async () => {
    const seen: Uint8Array[] = [];
    const inner = createInProcessEvaluator(KEY_A);
    const spy: LinkageEvaluator = {
      evaluate: async (blinded) => {
        seen.push(...blinded);
        return inner.evaluate(blinded);
      },
    };
    await deriveLinkageKeys(child, spy, { role: 'record', now });
    const inputs = buildKeyInputs(child, { role: 'record' }).map((k) => k.input);
    expect(seen).toHaveLength(inputs.length);
    const sent = Buffer.concat(seen).toString('latin1');
    for (const [i, input] of inputs.entries()) {
      const plainPoint = hashToGroup(new TextEncoder().encode(input));
      expect(toHex(seen[i] ?? new Uint8Array())).not.toBe(toHex(plainPoint));
      expect(sent).not.toContain(input);
    }
    expect(sent).not.toContain('9990000026');
    expect(sent.toLowerCase()).not.toContain('hart');
  });

  it('validates first: bad input throws a coded error and never reaches the evaluator', async () => {
    const evaluator = createInProcessEvaluator(KEY_A);
    await expect(deriveLinkageKeys({ ...child, nhsNumber: '9990000027' }, evaluator, { role: 'record', now })).rejects.toMatchObject({
      code: 'NHS_NUMBER_INVALID',
    });
    expect(evaluator.calls).toBe(0);
  });
});
