import { describe, expect, it } from 'vitest';

import { canonicalJson, parseCanonicalJson } from './canonical-json.js';
import { JCS_NUMBER_VECTORS, JCS_VECTORS } from './fixtures/jcs-vectors.js';
import { thrownCode } from './fixtures/test-helpers.js';

describe('RFC 8785 canonical JSON', () => {
  it.each(JCS_VECTORS)('matches the $name test vector byte for byte', ({ input, outputHex }) => {
    const canonical = canonicalJson(JSON.parse(input));
    expect(Buffer.from(canonical, 'utf8').toString('hex')).toBe(outputHex);
    expect(parseCanonicalJson(canonical)).toEqual({ canonical: true, value: JSON.parse(input) });
    expect(parseCanonicalJson(input)).toEqual({ canonical: false });
  });

  it.each(JCS_NUMBER_VECTORS)('serialises the IEEE 754 value %s as %s', (bits, expected) => {
    expect(canonicalJson(Buffer.from(bits, 'hex').readDoubleBE(0))).toBe(expected);
  });

  it('ignores key order and whitespace', () => {
    expect(canonicalJson(JSON.parse('{ "b": [1, {"y": 2, "x": 1}],\n "a": "z" }'))).toBe('{"a":"z","b":[1,{"x":1,"y":2}]}');
  });

  it('refuses what has no canonical form', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(thrownCode(() => canonicalJson(cycle))).toBe('NOT_JSON');
    expect(thrownCode(() => canonicalJson({ n: Number.NaN }))).toBe('NOT_JSON');
    expect(thrownCode(() => canonicalJson({ n: 1n }))).toBe('NOT_JSON');
    expect(thrownCode(() => canonicalJson({ s: '\ud800' }))).toBe('NOT_JSON');
    expect(thrownCode(() => canonicalJson(undefined))).toBe('NOT_JSON');
  });

  it('reports text that is not JSON, or JSON with a lone surrogate, as not canonical', () => {
    expect(parseCanonicalJson('{"a":')).toEqual({ canonical: false });
    expect(parseCanonicalJson('{"a":"\\ud800"}')).toEqual({ canonical: false });
    expect(parseCanonicalJson('{"a":1,"a":2}')).toEqual({ canonical: false });
  });
});
