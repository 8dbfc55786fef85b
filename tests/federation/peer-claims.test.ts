/**
 * What a member may claim when it asks, and who may ask for link counts: node tokens signed with
 * each member's real key, sent to one real node (WMP) on loopback under a signed manifest where
 * LACOVE (Coventry) is a local authority and GMP and MPS are police. The federated reads of the
 * trust core are in trust-core.test.ts.
 */
import { randomUUID } from 'node:crypto';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_HISTORY, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { signNodeToken } from '@mcx/signing';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import type { TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';

const MEMBERS = ['WMP', 'GMP', 'LACOVE', 'MPS'] as const;
type Member = (typeof MEMBERS)[number];
const ADULT_E = { forename: 'Barnabus', surname: 'Quickthorne', phone: '+447700900778' };

let fed: TestFederation;
let nodes: Record<Member, TestNode>;
let close: () => Promise<void>;
let wmpAdultE = '';

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation(MEMBERS, {
    start: ['WMP'],
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { LACOVE: 'local_authority' },
  }));
  // WMP: an adult graded E, police only, found with the child: never to leave WMP, not even as a count.
  const adultE = await publishAssociate(
    nodes.WMP.client,
    associateInput({
      ownerReference: 'WMP-ASC-E',
      identity: ADULT_E,
      grading: { scheme: '3x5x2', source: '2', intelligence: 'E', handling: 'C', conditions: ['POLICE_ONLY'] },
    }),
  );
  expect(adultE.errors).toEqual([]);
  wmpAdultE = adultE.associate!.id;
  const withE = await publishEpisode(
    nodes.WMP.client,
    episodeInput({
      subjectRef: 'SUBJ-WMP-2',
      associates: [{ owner: 'WMP', associateId: wmpAdultE, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(withE.errors).toEqual([]);
}, 120_000);

afterAll(() => close?.());

describe('link counts are for an owner asking about its own associates, and count only what the asker may know of', () => {
  const LINKS = PEER_OPERATIONS.find((o) => o.name === 'mcx.associateLinks/1')!;
  async function ask(
    from: Member,
    act: Record<string, unknown>,
    associates: { owner: string; id: string; keys: unknown[] }[],
    purpose = 'MISSING_LIVE_SEARCH',
  ) {
    const variables = { associates, exclude: [] };
    const jwt = signNodeToken(
      {
        iss: from,
        aud: peerAudience('WMP'),
        ttlSec: 30,
        claims: {
          act: { sub: 'u-1', iss: 'https://idp.example', role: 'investigator', ...act },
          purpose,
          case_ref: 'CASE-26-1',
          caller_entry: `${from}:1`,
          req_hash: requestHash(LINKS.hash, variables as never),
        },
      },
      fed.keys[from]!.peerToken,
    );
    const res = await fetch(new URL(PEER_PATH, nodes.WMP.node.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ id: LINKS.hash, variables }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: { peerAssociateLinks: { links: { children: number }[] } }; error?: { code: string } },
    };
  }
  /** The keys a member would compute for a name it guesses (through the linkage service); read back from WMP here. */
  async function keysOf(id: string) {
    const sql = postgres(nodes.WMP.databaseUrl, { max: 1 });
    try {
      return await sql<
        { kind: string; strength: string; keyVersion: string; key: string }[]
      >`select key_kind as kind, strength, key_version as "keyVersion", key from linkage_keys where holder = ${id}`;
    } finally {
      await sql.end();
    }
  }

  it('an owner asking as itself is answered, but a graded-E, police-only adult here counts for nothing', async () => {
    const keys = (await keysOf(wmpAdultE)).map((k) => ({ ...k }));
    expect(keys.length).toBeGreaterThan(0);
    const r = await ask('LACOVE', { org: 'LACOVE', org_kind: 'local_authority' }, [{ owner: 'LACOVE', id: randomUUID(), keys }]);
    expect(r.status).toBe(200);
    expect(r.body.data?.peerAssociateLinks.links.map((l) => l.children)).toEqual([0]);
  });

  it('anyone else is refused: another organisation than the member, or associates of another owner', async () => {
    const keys = (await keysOf(wmpAdultE)).map((k) => ({ ...k }));
    const provider = await ask(
      'LACOVE',
      { org: 'PRV001', org_kind: 'provider' },
      [{ owner: 'LACOVE', id: randomUUID(), keys }],
      'MISSING_RETURN_INTERVIEW',
    );
    expect(provider).toMatchObject({ status: 403, body: { error: { code: 'LINK_COUNTS_OWNER_ONLY' } } });
    const investigator = await ask('GMP', { org: 'GMP', org_kind: 'police', sub: 'inv-9' }, [{ owner: 'MPS', id: randomUUID(), keys }]);
    expect(investigator).toMatchObject({ status: 403, body: { error: { code: 'LINK_COUNTS_OWNER_ONLY' } } });
  });
});

describe('what a member may claim for its investigator', () => {
  const variables = { keys: [{ kind: 'nhs', strength: 'strong', keyVersion: 'k1', key: 'A'.repeat(43) }] };
  const body = { id: PEER_HISTORY.hash, variables };
  const act = (over: Record<string, unknown> = {}) => ({
    sub: 'inv-1',
    iss: 'https://login.example/gmp',
    org: 'GMP',
    org_kind: 'police',
    role: 'investigator',
    ...over,
  });
  const token = (from: Member, claims: Record<string, unknown>) =>
    signNodeToken(
      {
        iss: from,
        aud: peerAudience('WMP'),
        ttlSec: 30,
        claims: {
          act: act(),
          purpose: 'MISSING_LIVE_SEARCH',
          case_ref: 'GMP-26-1',
          caller_entry: `${from}:1`,
          req_hash: requestHash(PEER_HISTORY.hash, variables),
          ...claims,
        },
      },
      fed.keys[from]!.peerToken,
    );
  async function post(jwt: string) {
    const res = await fetch(new URL(PEER_PATH, nodes.WMP.node.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code ?? null };
  }

  it('a well-formed claim for its own user is answered', async () => {
    expect(await post(token('GMP', {}))).toEqual({ status: 200, code: null });
  });

  it('a subject as long as a token of its own node may carry (256) is answered', async () => {
    expect(await post(token('GMP', { act: act({ sub: `u${'x'.repeat(255)}` }) }))).toEqual({ status: 200, code: null });
  });

  const refused: [string, Member, Record<string, unknown>, string][] = [
    ['no organisation', 'GMP', { act: act({ org: undefined }) }, 'PEER_CLAIMS_INVALID'],
    ["another member's own user (the owner's)", 'GMP', { act: act({ org: 'WMP' }) }, 'PEER_ACT_OTHER_MEMBER'],
    ["another member's own user (a third)", 'GMP', { act: act({ org: 'MPS' }) }, 'PEER_ACT_OTHER_MEMBER'],
    [
      'an organisation of another kind than claimed',
      'GMP',
      { act: act({ org: 'LABIRM', org_kind: 'police' }) },
      'PEER_ACT_UNKNOWN_ORGANISATION',
    ],
    ['an organisation nobody knows', 'GMP', { act: act({ org: 'NOWHERE', org_kind: 'local_authority' }) }, 'PEER_ACT_UNKNOWN_ORGANISATION'],
    [
      'itself, as another kind than its own',
      'GMP',
      { act: act({ org: 'GMP', org_kind: 'local_authority' }) },
      'PEER_ACT_UNKNOWN_ORGANISATION',
    ],
    ['a police user, from a local authority', 'LACOVE', { act: act({ org: 'LANCS', org_kind: 'police' }) }, 'PEER_ACT_KIND_NOT_SPOKEN_FOR'],
    ["a caller entry of another member's log", 'GMP', { caller_entry: 'MPS:424242' }, 'PEER_CALLER_ENTRY_NOT_OWN'],
    // What the audit entry could not hold is refused (and the refusal audited), not a failed write.
    ['an issuer with a space', 'GMP', { act: act({ iss: 'Evil IdP' }) }, 'PEER_CLAIMS_INVALID'],
    ['a subject outside printable ASCII', 'GMP', { act: act({ sub: 'jos\u00e9' }) }, 'PEER_CLAIMS_INVALID'],
    ['a subject longer than 256', 'GMP', { act: act({ sub: 'x'.repeat(257) }) }, 'PEER_CLAIMS_INVALID'],
  ];
  for (const [what, from, claims, code] of refused) {
    it(`${what}: refused with ${code}, and audited`, async () => {
      expect(await post(token(from, claims))).toEqual({ status: 403, code });
      const auditor = await nodes.WMP.as({ roles: ['auditor'] });
      const last = (await allEntries(auditor)).filter((e) => e.action === 'AUTHORISATION_FAILURE').at(-1);
      expect(last).toMatchObject({ requestingNode: from, reason: code });
    });
  }

  it("the caller's entry is logged as its own, never as another member's", async () => {
    expect((await post(token('GMP', { caller_entry: 'GMP:77' }))).status).toBe(200);
    const sql = postgres(nodes.WMP.databaseUrl, { max: 1 });
    try {
      const cited = await sql<
        { peer: string; n: number }[]
      >`select entry->>'peerEntryId' as peer, count(*)::int as n from audit_entries where entry->>'peerEntryId' in ('MPS:424242', 'GMP:77') group by 1`;
      expect(cited).toEqual([{ peer: 'GMP:77', n: 1 }]);
    } finally {
      await sql.end();
    }
  });
});

describe('the field-duplication limit', () => {
  it('counts copies hidden in nested inline fragments', async () => {
    const query = '{ __typename ... { __typename ... { __typename ... { __typename ... { __typename } } } } }';
    const token = await nodes.WMP.issuer.mintToken({
      roles: ['investigator'],
      force: 'WMP',
      orgKind: 'police',
      subject: 'inv-dup',
      kind: 'user',
      ttlSec: 60,
      audience: 'mcx-node:WMP',
    });
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-mcx-purpose': 'MISSING_LIVE_SEARCH',
      'x-mcx-case-ref': 'WMP-26-1001',
    };
    const res = await fetch(`${nodes.WMP.node.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
    const body: Promise<unknown> = res.json();
    // A JSON body cannot hold an undefined: no data key at all.
    expect(await body).not.toHaveProperty('data');
    const error = await expectGraphQLError(body, 'GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toContain('Field duplication limit exceeded');
  });
});
