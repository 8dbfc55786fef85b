import { describe, expect, it } from 'vitest';

import { jsonNestsDeeperThan } from './json-body.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('jsonNestsDeeperThan', () => {
  it.each([
    ['a flat object', '{"a":1,"b":"x"}', 1, false],
    ['objects and arrays count alike', '{"a":[{"b":[1]}]}', 4, false],
    ['one level more than allowed', '{"a":[{"b":[1]}]}', 3, true],
    ['brackets inside strings do not count', '{"a":"[[[[{{{{"}', 1, false],
    ['an escaped quote does not end the string', '{"a":"\\\\\\"[[[[["}', 1, false],
    ['an escaped backslash before the closing quote', '{"a":"\\\\\\\\","b":[[[1]]]}', 4, false],
    ['an escaped backslash before the closing quote, then too deep', '{"a":"\\\\\\\\","b":[[[1]]]}', 3, true],
    ['multi-byte characters are not taken for brackets', `{"a":"${'ü€𝄞'.repeat(100)}"}`, 1, false],
    ['siblings do not add up', '[[1],[2],[3],[4]]', 2, false],
  ])('%s', (_label, text, max, deeper) => {
    expect(jsonNestsDeeperThan(bytes(text), max)).toBe(deeper);
  });

  it('stops at the first level too deep: a million levels cost a few bytes of scanning', () => {
    const deep = bytes(`{"v":${'['.repeat(1_500_000)}${']'.repeat(1_500_000)}}`);
    const started = performance.now();
    expect(jsonNestsDeeperThan(deep, 32)).toBe(true);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
