import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, exportPublicKeyPem, generateSigningKey, initManifest, signManifest } from '@mcx/signing';
import { episodeInput } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

// The checks of tests/fixtures/graphql-abuse.md (graphql-cop's twelve, plus MCX's), against
// a node started in production mode. Peer tokens (check 16) come with the federation protocol.
const ISSUER = 'https://idp.wmp.test';
const AUDIENCE = 'api://mcx-wmp';
let t: TestNode;
let signToken: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-prod-'));
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  writeFileSync(path.join(dir, 'issuers.json'), JSON.stringify([
    { id: 'wmp-idp', issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] }, algorithms: ['EdDSA'], force: 'WMP', orgKind: 'police', typ: 'at+jwt', claimMapping: 'plain' },
  ]));
  signToken = (claims) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(String(claims.sub ?? 'user-1')).setIssuedAt().setExpirationTime('5m').sign(privateKey);

  const operator = generateSigningKey('manifest');
  writeFileSync(path.join(dir, 'operator.pub.pem'), exportPublicKeyPem(operator));
  const manifest = initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 });
  const nodeKeys = (await import('@mcx/node')).generateNodeKeys();
  const keys = (await import('@mcx/node')).manifestKeys(nodeKeys);
  const withMember = addMember(manifest, { code: 'WMP', name: 'West Midlands Police', kind: 'police', endpoint: 'https://mcx.wmp.test', contact24x7: '+44 121 000 0000', keys, capabilities: [] });
  writeFileSync(path.join(dir, 'manifest.jws'), signManifest(withMember, operator));

  t = await startTestNode({
    force: 'WMP',
    keys: nodeKeys,
    env: {
      MCX_ENV: 'production',
      MCX_ISSUERS_FILE: path.join(dir, 'issuers.json'),
      MCX_OPERATOR_PUBLIC_KEY_FILE: path.join(dir, 'operator.pub.pem'),
      MCX_MANIFEST_FILE: path.join(dir, 'manifest.jws'),
    },
  });
});
afterAll(() => t?.close());

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.node.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> } = {};
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
    const r = await post({ query: `{ ${repeat(101, (i) => `a${i}: __typename`)} }` });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('2. array batching is refused', async () => {
    const r = await post(Array.from({ length: 10 }, () => ({ query: '{ __typename }' })));
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('"__typename"');
  });

  it('3. a GET query without a preflight header is refused (CSRF)', async () => {
    const res = await fetch(`${t.node.url}/graphql?query=${encodeURIComponent('{__typename}')}`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it('4. a url-encoded POST is refused (CSRF)', async () => {
    const res = await fetch(`${t.node.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).not.toContain('"data"');
  });

  it('5. no tracing, ftv1 or stack traces in extensions', async () => {
    const r = await post({ query: '{ __typename }' }, { 'apollo-federation-include-trace': 'ftv1' });
    expect(r.json.data).toEqual({ __typename: 'Query' });
    expect(r.json.extensions ?? {}).toEqual({});
    const bad = await post({ query: '{ nodeForce }' });
    expect(JSON.stringify(bad.json)).not.toMatch(/stacktrace|    at /);
  });

  it('6. field duplication (500 copies) is refused', async () => {
    const r = await post({ query: `{ ${repeat(500, () => '__typename')} }` });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('7. no field suggestions', async () => {
    const r = await post({ query: '{ __typenam }' });
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
      const r = await post({ query });
      expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.json.data).toBeUndefined();
    }
  });

  it('10. directive overloading is refused', async () => {
    const r = await post({ query: `{ __typename ${repeat(100, () => '@aa')} }` });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('11. circular introspection is refused', async () => {
    const r = await post({ query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }' });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.json.data).toBeUndefined();
  });

  it('12. a mutation over GET is refused', async () => {
    const res = await fetch(`${t.node.url}/graphql?query=${encodeURIComponent('mutation{__typename}')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(405);
    expect(await res.text()).not.toContain('"data"');
  });

  it('13. _service without a router credential is refused', async () => {
    const user = await signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-1' });
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${user}` }];
    for (const headers of attempts) {
      const r = await post({ query: '{ _service { sdl } }' }, headers);
      expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain(r.json.errors?.[0]?.extensions?.code);
      expect(r.text).not.toContain('MissingEpisode');
    }
  });

  it('14. _entities with no token, a user token without purpose, or a router without a user is refused', async () => {
    const q = { query: '{ _entities(representations: [{ __typename: "MissingEpisode", owner: "WMP", id: "7d3f1c1e-1f0a-4c55-9a7e-0b8d2f7a1c01" }]) { ... on MissingEpisode { id ownerReference } } }' };
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
      expect(r.text).not.toContain('ownerReference":"');
    }
    const ok = await post(q, { authorization: `Bearer ${router}`, 'x-mcx-forwarded-user': user, 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'WMP-26-1' });
    expect(ok.json.errors).toBeUndefined();
    expect(ok.json.data).toEqual({ _entities: [null] });
  });

  it('15. an error path that echoes input does not carry a name, to the caller or the logs', async () => {
    const publisher = await signToken({ roles: ['publisher'], mcx_token_kind: 'client', sub: 'rms', client_id: 'rms' });
    const r = await post({ query: 'mutation($v: MissingEpisodeInput!) { publishEpisode(input: $v) { errors { code } } }', variables: { v: { ...episodeInput(), version: 'Tallulah Bramwell' } } }, { authorization: `Bearer ${publisher}` });
    expect(r.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.text).not.toContain('Tallulah');
    expect(t.logs()).not.toContain('Tallulah');
  });

  it('keeps serving afterwards', async () => {
    expect((await fetch(`${t.node.url}/healthz`)).status).toBe(200);
    const publisher = await signToken({ roles: ['publisher'], mcx_token_kind: 'client', sub: 'rms', client_id: 'rms' });
    const r = await post({ query: 'mutation($v: MissingEpisodeInput!) { publishEpisode(input: $v) { errors { code } episode { id } } }', variables: { v: episodeInput() } }, { authorization: `Bearer ${publisher}` });
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data).toMatchObject({ publishEpisode: { errors: [] } });
  });
});
