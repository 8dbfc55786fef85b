// Every role against every operation: who may call what, what a refusal releases (nothing), and
// the audit entries each call leaves. Refused tokens and the purpose and case reference of a read
// are in access-tokens.test.ts.
import { randomUUID } from 'node:crypto';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Role } from '@mcx/auth';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { postGraphQL } from '../testkit/graphql.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate } from '../testkit/records.js';

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

/** Sends a raw GraphQL request to the node with a given Authorization and headers. */
const send = (auth: string | null, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  postGraphQL(t.node.url, auth, query, variables, headers);

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
