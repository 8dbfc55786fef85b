// Tokens the node refuses (bad signatures, algorithms, issuers, audiences, lifetimes, kinds), and
// the purpose and case reference every read must carry, through a query and through _entities.
// Who may call which operation is in access.test.ts.
import { base64url, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { postGraphQL } from '../testkit/graphql.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

type SigningKeyLike = Parameters<SignJWT['sign']>[0];

let t: TestNode;
let episodeId: string;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
  const e = episodeInput();
  episodeId = e.id!;
  expect((await publishEpisode(t.client, e)).errors).toEqual([]);
});
afterAll(() => t?.close());

/** Sends a raw GraphQL request to the node with a given Authorization and headers. */
const send = (auth: string | null, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  postGraphQL(t.node.url, auth, query, variables, headers);

/** An investigator's bearer credential from the node's development issuer. */
async function investigatorToken(): Promise<string> {
  return `Bearer ${await t.issuer.mintToken({ role: 'investigator', force: 'WMP', orgKind: 'police', subject: 's-investigator', kind: 'user', ttlSec: 300 })}`;
}

describe('refused tokens', () => {
  const base = () => ({ roles: ['investigator'], mcx_token_kind: 'user', mcx_force: 'WMP', mcx_org_kind: 'police' });
  const enc = (o: object) => base64url.encode(JSON.stringify(o));
  const now = () => Math.floor(Date.now() / 1000);

  async function signed(
    opts: {
      header?: Record<string, unknown>;
      claims?: Record<string, unknown>;
      iss?: string;
      aud?: string;
      exp?: number;
      nbf?: number;
      key?: SigningKeyLike;
    } = {},
  ) {
    const priv = opts.key ?? ((await import('jose')).importJWK(t.issuer.privateJwk, 'EdDSA') as Promise<SigningKeyLike>);
    return new SignJWT({ ...base(), ...opts.claims })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: t.issuer.kid, ...opts.header })
      .setIssuer(opts.iss ?? 'mcx-dev-issuer')
      .setSubject('tester')
      .setAudience(opts.aud ?? 'mcx-node:WMP')
      .setIssuedAt()
      .setNotBefore(opts.nbf ?? now() - 5)
      .setExpirationTime(opts.exp ?? now() + 300)
      .sign(await priv);
  }

  it.each([
    [
      'alg none',
      async () =>
        `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ ...base(), iss: 'mcx-dev-issuer', aud: 'mcx-node:WMP', sub: 'x', exp: now() + 300 })}.`,
      'TOKEN_ALG_NOT_ALLOWED',
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const jwk = t.issuer.jwks.keys[0]!;
        const secret = new TextEncoder().encode(JSON.stringify(jwk));
        return new SignJWT({ ...base() })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: t.issuer.kid })
          .setIssuer('mcx-dev-issuer')
          .setAudience('mcx-node:WMP')
          .setSubject('x')
          .setExpirationTime('5m')
          .sign(secret);
      },
      'TOKEN_ALG_NOT_ALLOWED',
    ],
    ['a wrong issuer', () => signed({ iss: 'https://login.example/other' }), 'TOKEN_UNKNOWN_ISSUER'],
    ['a wrong audience', () => signed({ aud: 'mcx-node:GMP' }), 'TOKEN_WRONG_AUDIENCE'],
    ['expired', () => signed({ exp: now() - 600 }), 'TOKEN_EXPIRED'],
    ['not yet valid', () => signed({ nbf: now() + 600 }), 'TOKEN_NOT_YET_VALID'],
    ['an unknown kid', () => signed({ header: { kid: 'no-such-key' } }), 'TOKEN_UNKNOWN_KID'],
    ['a jku header', () => signed({ header: { jku: 'https://attacker.example/jwks.json' } }), 'TOKEN_FORBIDDEN_HEADER'],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await signed()).split('.');
        return `${h}.${enc({ ...base(), roles: ['investigator', 'auditor'], iss: 'mcx-dev-issuer', aud: 'mcx-node:WMP', sub: 'tester', exp: now() + 300 })}.${s}`;
      },
      'TOKEN_BAD_SIGNATURE',
    ],
    [
      'a token from an issuer that is not configured',
      async () => {
        const { privateKey } = await generateKeyPair('EdDSA');
        return signed({ iss: 'https://sts.windows.net/unknown-tenant/', key: privateKey as SigningKeyLike });
      },
      'TOKEN_UNKNOWN_ISSUER',
    ],
  ] as const)('%s -> UNAUTHENTICATED (%s)', async (_label, make, reason) => {
    const result = await send(`Bearer ${await make()}`, '{ localEpisodes(first: 1) { nodes { id } } }', {}, readHeaders('WMP'));
    expect(result.status).toBe(401);
    expect(result.code).toBe('UNAUTHENTICATED');
    expect(result.reason).toBe(reason);
    expect(result.body.data ?? null).toBeNull();
  });

  it('a client-credentials token used as a user token is refused', async () => {
    const token = await t.issuer.mintToken({
      role: 'investigator',
      force: 'WMP',
      orgKind: 'police',
      subject: 'some-app',
      kind: 'client',
      ttlSec: 300,
    });
    const result = await send(`Bearer ${token}`, '{ localEpisodes(first: 1) { nodes { id } } }', {}, readHeaders('WMP'));
    expect(result.code).toBe('FORBIDDEN');
    expect(result.body.data ?? null).toBeNull();
  });
});

describe('purpose and case reference on every read', () => {
  it.each([
    ['no purpose', { 'x-mcx-case-ref': 'WMP-26-1001' }, 'PURPOSE_MISSING'],
    ['an unknown purpose', { 'x-mcx-purpose': 'CURIOSITY', 'x-mcx-case-ref': 'WMP-26-1001' }, 'PURPOSE_UNKNOWN'],
    ['no case reference', { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH' }, 'CASE_REF_MISSING'],
    [
      'a case reference that looks like a name',
      { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'Olivia Hart' },
      'CASE_REF_MALFORMED',
    ],
    [
      'a case reference over the length limit',
      { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': `WMP-26-${'1'.repeat(40)}` },
      'CASE_REF_TOO_LONG',
    ],
  ])('%s is refused (%s), through a query and through _entities', async (_label, headers, reason) => {
    const auth = await investigatorToken();
    for (const q of [
      '{ localEpisodes(first: 1) { nodes { id } } }',
      `{ _entities(representations: [{ __typename: "MissingEpisode", owner: "WMP", id: "${episodeId}" }]) { ... on MissingEpisode { id } } }`,
    ]) {
      const result = await send(auth, q, {}, headers);
      expect(result.code).toBe('FORBIDDEN');
      expect(result.reason).toBe(reason);
      const data = result.body.data as Record<string, unknown[] | null> | null | undefined;
      expect(JSON.stringify(data ?? {})).not.toContain(episodeId);
    }
  });

  it('a purpose and case reference may come as token claims instead of headers', async () => {
    const token = await t.issuer.mintToken({
      role: 'investigator',
      force: 'WMP',
      orgKind: 'police',
      subject: 'inv',
      kind: 'user',
      ttlSec: 300,
      purpose: 'MISSING_REVIEW',
      caseRef: 'WMP-26-77',
    });
    const result = await send(`Bearer ${token}`, '{ localEpisodes(first: 1) { nodes { id } } }');
    expect(result.code).toBeUndefined();
  });
});
