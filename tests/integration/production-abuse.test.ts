import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { episodeInput } from '../testkit/episodes.js';
import { readHeaders, type TestNode } from '../testkit/node.js';
import { startProductionNode } from '../testkit/production.js';

// The checks of tests/fixtures/graphql-abuse.md (graphql-cop's twelve, plus MCX's), against
// a node started in production mode. Peer tokens (check 16) come with the federation protocol.
// A request without a token is refused (401) before any GraphQL runs, so the checks of what
// GraphQL itself refuses are made with an investigator's token.
let t: TestNode;
let signToken: (claims: Record<string, unknown>) => Promise<string>;
let investigator: Record<string, string>;

beforeAll(async () => {
  ({ t, signToken } = await startProductionNode());
  investigator = {
    authorization: `Bearer ${await signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-1' })}`,
    ...readHeaders('WMP'),
  };
});
afterAll(() => t?.close());

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> } =
    {};
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, json, type: res.headers.get('content-type') ?? '' };
}

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');

describe('GraphQL abuse checks against a production node', () => {
  it('1. alias overloading: 101 aliases are a validation error', async () => {
    const r = await post({ query: `{ ${repeat(101, (i) => `a${i}: __typename`)} }` }, investigator);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('2. array batching is refused', async () => {
    const r = await post(
      Array.from({ length: 10 }, () => ({ query: '{ __typename }' })),
      investigator,
    );
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('"__typename"');
  });

  it('3. a GET query without a preflight header is refused (CSRF)', async () => {
    const res = await fetch(`${t.node.url}/graphql?query=${encodeURIComponent('{__typename}')}`, { headers: investigator });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it('4. a url-encoded POST is refused (CSRF)', async () => {
    const res = await fetch(`${t.node.url}/graphql`, {
      method: 'POST',
      headers: { ...investigator, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it('5. no tracing, ftv1 or stack traces in extensions', async () => {
    const r = await post({ query: '{ __typename }' }, { ...investigator, 'apollo-federation-include-trace': 'ftv1' });
    expect(r.json.data).toEqual({ __typename: 'Query' });
    expect(r.json.extensions ?? {}).toEqual({});
    const bad = await post({ query: '{ nodeForce }' });
    expect(JSON.stringify(bad.json)).not.toMatch(/stacktrace|    at /);
  });

  it('5b. without a token, not even __typename: 401 before any GraphQL runs', async () => {
    const r = await post({ query: '{ __typename }' });
    expect(r.status).toBe(401);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.json.data).toBeUndefined();
  });

  it('6. field duplication (500 copies) is refused', async () => {
    const r = await post({ query: `{ ${repeat(500, () => '__typename')} }` }, investigator);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('7. no field suggestions', async () => {
    const r = await post({ query: '{ __typenam }' }, investigator);
    expect(r.json.errors?.length).toBeGreaterThan(0);
    expect(r.text).not.toContain('Did you mean');
  });

  it('8. no IDE page', async () => {
    for (const p of ['/graphql', '/graphiql', '/playground']) {
      const res = await fetch(`${t.node.url}${p}`, { headers: { accept: 'text/html' } });
      expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
      expect(await res.text()).not.toMatch(/<html/i);
    }
  });

  it('9. introspection is refused', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Query") { name } }']) {
      const r = await post({ query }, investigator);
      expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.json.data).toBeUndefined();
    }
  });

  it('10. directive overloading is refused', async () => {
    const r = await post({ query: `{ __typename ${repeat(100, () => '@aa')} }` }, investigator);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('11. circular introspection is refused', async () => {
    const r = await post({ query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' }, investigator);
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('12. a mutation over GET is refused', async () => {
    const res = await fetch(`${t.node.url}/graphql?query=${encodeURIComponent('mutation{__typename}')}`, {
      headers: { ...investigator, 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(405);
    expect(await res.text()).not.toContain('"data"');
  });

  it('13. _service without a router credential is refused', async () => {
    const user = await signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-1' });
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${user}` }];
    for (const headers of attempts) {
      const r = await post({ query: '{ _service { sdl } }' }, headers);
      expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain(r.json.errors?.[0]?.extensions?.code);
      // A refusal of the whole request: 401 or 403, never a 500.
      expect(r.status).toBe(r.json.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? 401 : 403);
      expect(r.text).not.toContain('MissingEpisode');
    }
  });

  it('14. _entities with no token, a user token without purpose, or a router without a user is refused', async () => {
    const q = {
      query:
        '{ _entities(representations: [{ __typename: "MissingEpisode", owner: "WMP", id: "7d3f1c1e-1f0a-4c55-9a7e-0b8d2f7a1c01" }]) { ... on MissingEpisode { id ownerReference } } }',
    };
    const user = await signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-1' });
    const router = await signToken({ roles: ['router'], mcx_token_kind: 'client', sub: 'router-1', client_id: 'router-1' });
    const attempts: [Record<string, string>, string][] = [
      [{}, 'UNAUTHENTICATED'],
      [{ authorization: `Bearer ${user}` }, 'FORBIDDEN'],
      [{ authorization: `Bearer ${router}`, 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'WMP-26-1' }, 'FORBIDDEN'],
    ];
    for (const [headers, code] of attempts) {
      const r = await post(q, headers);
      expect(r.json.errors?.[0]?.extensions?.code).toBe(code);
      expect(r.status).toBe(code === 'UNAUTHENTICATED' ? 401 : 403);
      expect(r.text).not.toContain('ownerReference":"');
    }
    const ok = await post(q, {
      authorization: `Bearer ${router}`,
      'x-mcx-forwarded-user': user,
      'x-mcx-purpose': 'MISSING_LIVE_SEARCH',
      'x-mcx-case-ref': 'WMP-26-1',
    });
    expect(ok.json.errors).toBeUndefined();
    expect(ok.json.data).toEqual({ _entities: [null] });
  });

  it('15. an error path that echoes input does not carry a name, to the caller or the logs', async () => {
    const publisher = await signToken({ roles: ['publisher'], mcx_token_kind: 'client', sub: 'rms', client_id: 'rms' });
    const r = await post(
      {
        query: 'mutation($v: MissingEpisodeInput!) { publishEpisode(input: $v) { errors { code } } }',
        variables: { v: { ...episodeInput(), version: 'Tallulah Bramwell' } },
      },
      { authorization: `Bearer ${publisher}` },
    );
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.text).not.toContain('Tallulah');
    expect(t.logs()).not.toContain('Tallulah');
  });

  it('keeps serving afterwards', async () => {
    expect((await fetch(`${t.node.url}/healthz`)).status).toBe(200);
    const publisher = await signToken({ roles: ['publisher'], mcx_token_kind: 'client', sub: 'rms', client_id: 'rms' });
    const r = await post(
      {
        query: 'mutation($v: MissingEpisodeInput!) { publishEpisode(input: $v) { errors { code } episode { id } } }',
        variables: { v: episodeInput() },
      },
      { authorization: `Bearer ${publisher}` },
    );
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data).toMatchObject({ publishEpisode: { errors: [] } });
  });
});
