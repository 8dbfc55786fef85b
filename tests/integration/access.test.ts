import { randomUUID } from 'node:crypto';

import { base64url, generateKeyPair, SignJWT } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Role } from '@mcx/auth';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate } from '../testkit/records.js';

type SigningKeyLike = Parameters<SignJWT['sign']>[0];

let t: TestNode;
let episodeId: string;
let associateId: string;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
  const e = episodeInput();
  episodeId = e.id!;
  await publishEpisode(t.client, e);
  const a = associateInput();
  associateId = a.id!;
  await publishAssociate(t.client, a);
});
afterAll(() => t?.close());

/** Sends a raw GraphQL request with a given Authorization and headers. */
async function send(auth: string | null, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: { code?: string; reason?: string } }[];
  };
  return { status: res.status, body, code: body.errors?.[0]?.extensions?.code, reason: body.errors?.[0]?.extensions?.reason };
}

const WRITE = (name: string, args: string, selection = 'errors { code }') =>
  `mutation($v: ${args}) { ${name}(${args.startsWith('[') ? 'inputs' : 'input'}: $v) { ${selection} } }`;

type Op = {
  name: string;
  kind: 'write' | 'read' | 'any' | 'operator' | 'auditor' | 'checkpoint';
  query: () => string;
  variables: () => Record<string, unknown>;
};
const OPS: Op[] = [
  {
    name: 'publishEpisode',
    kind: 'write',
    query: () => WRITE('publishEpisode', 'MissingEpisodeInput!'),
    variables: () => ({ v: episodeInput() }),
  },
  {
    name: 'publishEpisodes',
    kind: 'write',
    query: () => WRITE('publishEpisodes', '[MissingEpisodeInput!]!'),
    variables: () => ({ v: [episodeInput()] }),
  },
  {
    name: 'amendEpisode',
    kind: 'write',
    query: () => WRITE('amendEpisode', 'MissingEpisodeInput!'),
    variables: () => ({ v: episodeInput() }),
  },
  {
    name: 'closeEpisode',
    kind: 'write',
    query: () => WRITE('closeEpisode', 'McxCloseEpisodeInput!'),
    variables: () => ({ v: { id: randomUUID(), version: 2 } }),
  },
  {
    name: 'publishAssociate',
    kind: 'write',
    query: () => WRITE('publishAssociate', 'McxAssociateInput!'),
    variables: () => ({ v: associateInput() }),
  },
  {
    name: 'publishAssociates',
    kind: 'write',
    query: () => WRITE('publishAssociates', '[McxAssociateInput!]!'),
    variables: () => ({ v: [associateInput()] }),
  },
  {
    name: 'amendAssociate',
    kind: 'write',
    query: () => WRITE('amendAssociate', 'McxAssociateInput!'),
    variables: () => ({ v: associateInput() }),
  },
  {
    name: 'publishLocationOfConcern',
    kind: 'write',
    query: () => WRITE('publishLocationOfConcern', 'McxLocationOfConcernInput!'),
    variables: () => ({ v: locationInput() }),
  },
  {
    name: 'publishLocationsOfConcern',
    kind: 'write',
    query: () => WRITE('publishLocationsOfConcern', '[McxLocationOfConcernInput!]!'),
    variables: () => ({ v: [locationInput()] }),
  },
  {
    name: 'amendLocationOfConcern',
    kind: 'write',
    query: () => WRITE('amendLocationOfConcern', 'McxLocationOfConcernInput!'),
    variables: () => ({ v: locationInput() }),
  },
  {
    name: 'restrictRecord',
    kind: 'write',
    query: () => 'mutation($id: ID!) { restrictRecord(kind: ASSOCIATE, id: $id, reason: ACCURACY_CONTESTED) { errors { code } } }',
    variables: () => ({ id: associateId }),
  },
  {
    name: 'unrestrictRecord',
    kind: 'write',
    query: () => 'mutation($id: ID!) { unrestrictRecord(kind: ASSOCIATE, id: $id) { errors { code } } }',
    variables: () => ({ id: associateId }),
  },
  {
    name: 'retractRecord',
    kind: 'write',
    query: () => 'mutation($id: ID!) { retractRecord(kind: EPISODE, id: $id, version: 9, reason: DUPLICATE) { errors { code } } }',
    variables: () => ({ id: randomUUID() }),
  },
  { name: 'localEpisodes', kind: 'read', query: () => '{ localEpisodes(first: 5) { nodes { id } } }', variables: () => ({}) },
  {
    name: 'localEpisode',
    kind: 'read',
    query: () => 'query($id: ID!) { localEpisode(owner: "WMP", id: $id) { id } }',
    variables: () => ({ id: episodeId }),
  },
  {
    name: 'localAssociate',
    kind: 'read',
    query: () => 'query($id: ID!) { localAssociate(owner: "WMP", id: $id) { id } }',
    variables: () => ({ id: associateId }),
  },
  {
    name: 'localLocationOfConcern',
    kind: 'read',
    query: () => 'query($id: ID!) { localLocationOfConcern(owner: "WMP", id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
  },
  {
    name: '_entities',
    kind: 'read',
    query: () => 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MissingEpisode { id } } }',
    variables: () => ({ r: [{ __typename: 'MissingEpisode', owner: 'WMP', id: episodeId }] }),
  },
  {
    name: 'reviewRecord',
    kind: 'write',
    query: () => 'mutation($id: ID!) { reviewRecord(kind: ASSOCIATE, id: $id, version: 99, reviewAt: "2099-01-01") { errors { code } } }',
    variables: () => ({ id: associateId }),
  },
  { name: 'auditEntries', kind: 'auditor', query: () => '{ auditEntries(first: 1) { entries { seq } } }', variables: () => ({}) },
  { name: 'auditDisclosures', kind: 'auditor', query: () => '{ auditDisclosures(first: 1) { entries { seq } } }', variables: () => ({}) },
  {
    name: 'whoHasSeenRecord',
    kind: 'auditor',
    query: () => 'query($id: ID!) { whoHasSeenRecord(owner: "WMP", id: $id) { entries { seq } } }',
    variables: () => ({ id: episodeId }),
  },
  {
    name: 'auditAlerts',
    kind: 'auditor',
    query: () => '{ auditAlerts(from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { kind } }',
    variables: () => ({}),
  },
  { name: 'auditIntegrity', kind: 'auditor', query: () => '{ auditIntegrity { status } }', variables: () => ({}) },
  { name: 'auditExport', kind: 'auditor', query: () => '{ auditExport }', variables: () => ({}) },
  { name: 'auditCheckpoint', kind: 'checkpoint', query: () => 'mutation { auditCheckpoint { size } }', variables: () => ({}) },
  { name: 'nodeForce', kind: 'any', query: () => '{ nodeForce }', variables: () => ({}) },
  { name: 'nodeStatus', kind: 'operator', query: () => '{ nodeStatus { force keys { job kid } } }', variables: () => ({}) },
];

const ROLES: (Role | 'none')[] = ['none', 'publisher', 'investigator', 'auditor', 'operator', 'router'];
const ALLOWED: Record<Op['kind'], (Role | 'none')[]> = {
  write: ['publisher'],
  read: ['investigator'],
  any: ['publisher', 'investigator', 'auditor', 'operator', 'router'],
  operator: ['operator'],
  auditor: ['auditor'],
  checkpoint: ['auditor', 'operator'],
};

async function tokenFor(role: Role | 'none'): Promise<string | null> {
  if (role === 'none') return null;
  const kind = role === 'publisher' || role === 'router' ? 'client' : 'user';
  return `Bearer ${await t.issuer.mintToken({ role, force: 'WMP', orgKind: 'police', subject: `s-${role}`, kind, ttlSec: 300 })}`;
}

describe('every role against every operation', () => {
  const cases = ROLES.flatMap((role) => OPS.map((op) => [role, op.name, op] as const));
  it.each(cases)('%s -> %s', async (role, _name, op) => {
    const result = await send(await tokenFor(role), op.query(), op.variables(), readHeaders('WMP'));
    if (ALLOWED[op.kind].includes(role)) {
      expect(result.code).toBeUndefined();
      expect(result.body.data).toBeTruthy();
    } else {
      expect(result.code).toBe(role === 'none' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
      // Nothing is released: the field is null (for _entities, every entity is null).
      const value = (result.body.data as Record<string, unknown> | null | undefined)?.[op.name] ?? null;
      expect(Array.isArray(value) ? value.every((v) => v === null) : value === null).toBe(true);
    }
  });

  it('every operation left the audit entries it should: actions by operation, refusals of authenticated actors', async () => {
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const rows = await sql<{ op: string; action: string; subject: string; n: number }[]>`
      select entry->'query'->>'operation' as op, action, actor_subject as subject, count(*)::int as n
      from audit_entries group by 1, 2, 3`;
    await sql.end();
    const count = (op: string, action: string, subject: string) =>
      rows.find((r) => r.op === op && r.action === action && r.subject === subject)?.n ?? 0;
    for (const op of OPS) {
      for (const role of ROLES) {
        if (role === 'none') continue;
        const subject = `s-${role}`;
        if (ALLOWED[op.kind].includes(role)) {
          if (op.kind === 'read') expect(count(op.name, 'consultation', subject), `${role} ${op.name}`).toBe(1);
        } else {
          expect(count(op.name, 'authorisation_failure', subject), `${role} ${op.name}`).toBe(1);
        }
      }
    }
    // Allowed writes that stored something left a collection or an alteration entry.
    expect(count('publishEpisode', 'collection', 's-publisher')).toBe(1);
    expect(count('publishEpisodes', 'collection', 's-publisher')).toBe(1);
    expect(count('restrictRecord', 'alteration', 's-publisher')).toBe(1);
    expect(count('unrestrictRecord', 'alteration', 's-publisher')).toBe(1);
  });

  it('a user token that carries the publisher role cannot write: publishing is for force systems (client credentials)', async () => {
    const token = await t.issuer.mintToken({
      role: 'publisher',
      force: 'WMP',
      orgKind: 'police',
      subject: 'a-person',
      kind: 'user',
      ttlSec: 300,
      audience: 'mcx-node:WMP',
    });
    const result = await send(`Bearer ${token}`, WRITE('publishEpisode', 'MissingEpisodeInput!'), { v: episodeInput() });
    expect(result.code).toBe('FORBIDDEN');
  });

  it('a publisher of another force cannot write this force’s records', async () => {
    const token = await t.issuer.mintToken({
      role: 'publisher',
      force: 'GMP',
      orgKind: 'police',
      subject: 'gmp-rms',
      kind: 'client',
      ttlSec: 300,
      audience: 'mcx-node:WMP',
    });
    const result = await send(`Bearer ${token}`, WRITE('publishEpisode', 'MissingEpisodeInput!'), { v: episodeInput() });
    expect(result.code).toBe('FORBIDDEN');
  });
});

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
    const auth = await tokenFor('investigator');
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
