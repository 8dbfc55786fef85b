import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { episodeInput } from '../testkit/episodes.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { MATCH, PUBLISH_EPISODE } from '../testkit/hostile-corpus.js';
import { readHeaders, type TestNode } from '../testkit/node.js';
import { startProductionNode } from '../testkit/production.js';

// An error names where the bad input is and what was expected, never the value sent: each value
// here is a synthetic name ("ZebedeeB01" ...) that no message may hold. What must not come back
// anywhere, logs and spans included, is tests/integration/no-echo.test.ts's.
let t: TestNode;
let investigator = '';

beforeAll(async () => {
  const prod = await startProductionNode();
  t = prod.t;
  investigator = await prod.signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-error-messages' });
}, 120_000);
afterAll(() => t?.close());

describe('how errors say what is wrong, without the value', () => {
  /** The first GraphQL error of the answer to `body`, which must carry `code`. */
  async function ask(body: unknown, code: string) {
    const res = await fetch(`${t.node.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${investigator}`, 'content-type': 'application/json', ...readHeaders('WMP') },
      body: JSON.stringify(body),
    });
    return expectGraphQLError(res.json(), code);
  }

  it('a variable of the wrong type: the variable, the path in it and the expected type', async () => {
    const error = await ask(
      {
        query: 'query Q($identity: McxChildIdentityInput!) { matchSubjects(identity: $identity) { owner } }',
        variables: { identity: { forename: ['ZebedeeB01'] } },
      },
      'BAD_USER_INPUT',
    );
    expect(error).toEqual({
      message: 'Variable "$identity" has an invalid value at "identity.forename": expected String.',
      locations: [{ line: 1, column: 9 }],
      extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_VALUE', variable: 'identity', field: 'forename', expected: 'String' },
    });
  });

  it('an enum value that does not exist, deep in an input: its path and the enum', async () => {
    const error = await ask(
      {
        query: PUBLISH_EPISODE,
        variables: { input: { ...episodeInput(), missingFrom: { kind: 'ZebedeeB02', location: { postcode: 'B15 2TT' } } } },
      },
      'BAD_USER_INPUT',
    );
    expect(error.message).toBe('Variable "$input" has an invalid value at "input.missingFrom.kind": expected McxPlaceKind.');
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'missingFrom.kind', expected: 'McxPlaceKind' });
  });

  it('a variable whose name is not a schema name is known by where it is defined', async () => {
    const error = await ask(
      {
        query: 'query Q($ZebedeeB03: McxChildIdentityInput!) { matchSubjects(identity: $ZebedeeB03) { owner } }',
        variables: { ZebedeeB03: { sex: 'ZebedeeB03' } },
      },
      'BAD_USER_INPUT',
    );
    expect(error.message).toBe('The variable defined at line 1, column 9 has an invalid value at "sex": expected McxSex.');
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_VALUE', field: 'sex', expected: 'McxSex' });
  });

  it('an unknown input field is not named', async () => {
    const error = await ask({ query: MATCH, variables: { identity: { ZebedeeB04: 'x' } } }, 'BAD_USER_INPUT');
    expect(error.message).toBe(
      'Variable "$identity" has an invalid value at "identity": a field that McxChildIdentityInput does not define.',
    );
  });

  it('a syntax error: the position and a fixed description, never the source', async () => {
    const error = await ask({ query: '{\n  matchSubjects(identity: {forename: "ZebedeeB05' }, 'GRAPHQL_PARSE_FAILED');
    expect(error).toEqual({
      message: 'Syntax error at line 2, column 49: a string is not terminated.',
      locations: [{ line: 2, column: 49 }],
      extensions: { code: 'GRAPHQL_PARSE_FAILED', reason: 'SYNTAX' },
    });
  });

  it('an enum literal: the field path and the expected type', async () => {
    const error = await ask({ query: '{ matchSubjects(identity: { sex: ZebedeeB06 }) { owner } }' }, 'GRAPHQL_VALIDATION_FAILED');
    expect(error).toEqual({
      message: 'A value that is not of the expected type at "matchSubjects.identity.sex": expected McxSex (line 1, column 34).',
      locations: [{ line: 1, column: 34 }],
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', reason: 'INVALID_VALUE', field: 'matchSubjects.identity.sex', expected: 'McxSex' },
    });
  });
});
