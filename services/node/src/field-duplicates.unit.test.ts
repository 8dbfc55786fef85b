import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';

import { maxFieldDuplicatesRule } from './field-duplicates.js';

const schema = buildSchema(`
  type Query { a: Int b: Int child: Child }
  type Child { x: Int y: Int }
`);
const errors = (query: string) => validate(schema, parse(query), [maxFieldDuplicatesRule(3)]).map((e) => e.message);
const LIMIT = 'Field duplication limit exceeded: a field may appear at most 3 times in one selection';

describe('maxFieldDuplicatesRule', () => {
  it('allows a field up to the limit, counting aliases as their own names', () => {
    expect(errors('{ a a a b }')).toEqual([]);
    expect(errors('{ a a a x: a y: a }')).toEqual([]);
  });

  it('refuses the fourth copy once', () => {
    expect(errors('{ a a a a a a }')).toEqual([LIMIT]);
  });

  it('counts copies hidden in nested inline fragments', () => {
    expect(errors('{ a ... on Query { a ... on Query { a ... { a } } } }')).toEqual([LIMIT]);
    expect(errors('{ __typename ... { __typename ... { __typename ... { __typename } } } }')).toEqual([LIMIT]);
  });

  it('counts copies brought in by fragment spreads, once per fragment', () => {
    expect(errors('query { a ...F ...G } fragment F on Query { a a } fragment G on Query { a }')).toEqual([LIMIT]);
    // The same fragment spread twice merges into one set of fields.
    expect(errors('query { ...F ...F ...F } fragment F on Query { a a }')).toEqual([]);
  });

  it('counts in nested selections separately', () => {
    expect(errors('{ child { x x x } other: child { x x x } }')).toEqual([]);
    expect(errors('{ child { x ... on Child { x x x } } }')).toEqual([LIMIT]);
  });
});
