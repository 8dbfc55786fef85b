import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';

import { episodeInput } from '../testkit/episodes.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

// Synthetic names, invented for this test.
const NAME = 'Tallulah Bramwell-Okafor';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
});
afterAll(() => t?.close());

// A publisher's token: the node refuses a request without one before any GraphQL runs. The
// GraphQL-over-HTTP media type, so a request error is answered with HTTP 400.
async function post(body: unknown) {
  const token = await t.issuer.mintToken({
    roles: ['publisher'],
    force: 'WMP',
    orgKind: 'police',
    subject: 'rms',
    kind: 'client',
    ttlSec: 600,
    audience: devAudience('WMP'),
  });
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` };
  const res = await fetch(`${t.node.url}/graphql`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

const PUBLISH = 'mutation P($input: MissingEpisodeInput!) { publishEpisode(input: $input) { errors { field code } } }';

describe('no name reaches an error or a log line', () => {
  it.each([
    ['a name in an Int field', { version: NAME }],
    ['a name in a DateTime field', { reportedAt: NAME }],
    ['a name in an enum field', { status: NAME }],
    ['a name as an unknown field', { forename: NAME }],
    ['a name in a nested enum', { missingFrom: { kind: NAME } }],
  ])('%s: a clear error, and the name is nowhere', async (_label, bad) => {
    const { status, text } = await post({ query: PUBLISH, variables: { input: { ...episodeInput(), ...bad } } });
    expect(status).toBe(400);
    const error = await expectGraphQLError(JSON.parse(text), 'BAD_USER_INPUT');
    expect(error.message).toMatch(/Variable "\$input"/);
    expect(text).not.toContain('Tallulah');
    expect(text).not.toContain('Bramwell');
    expect(t.logs()).not.toContain('Tallulah');
  });

  it('a name inlined in the query text is not echoed back either', async () => {
    const { text } = await post({ query: `mutation { publishEpisode(input: { version: "${NAME}" }) { errors { field } } }` });
    await expectGraphQLError(JSON.parse(text), 'GRAPHQL_VALIDATION_FAILED');
    expect(text).not.toContain('Tallulah');
    expect(t.logs()).not.toContain('Tallulah');
  });
});
