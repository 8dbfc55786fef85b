/**
 * The trust core across nodes: who a peer request speaks for, who is counted in a federated
 * answer, and what a receipt must prove. Real nodes on loopback, one signed manifest:
 * - WMP (police) owns the disclosure matrix's records, and answers its own investigators'
 *   federated reads as a peer like any other;
 * - GMP (police) asks for other police;
 * - LACOVE (Coventry, a local authority) owns an associate that a police search meets;
 * - MPS (police) offers every operation but mcx.history/1.
 */
import { randomUUID } from 'node:crypto';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ChildHistoryDocument,
  FederatedEpisodesDocument,
  PublishSubjectDocument,
  ReviewRecordDocument,
  type McxClient,
  type McxGradingInput,
} from '@mcx/client';
import { PEER_HISTORY, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { keyResolverFromKeys, signCheckpoint, signNodeToken, signReceipt, toPublicKey, verifyReceipt } from '@mcx/signing';

import { allEntries, AUDIT_ALERTS } from '../testkit/audit.js';
import { MATRIX, MATRIX_EPISODE, RECORDS, type RecordName, type Requester } from '../testkit/disclosure-matrix.js';
import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';

const MEMBERS = ['WMP', 'GMP', 'LACOVE', 'MPS'] as const;
type Member = (typeof MEMBERS)[number];
const CHILD = { forename: 'Marigold', surname: 'Threlkeld', dob: '2010-02-17', sex: 'FEMALE' as const, nhsNumber: '9990001421' };
const OTHER_CHILD = { forename: 'Peregrine', surname: 'Ashcombe', dob: '2009-08-03', sex: 'MALE' as const };
const ADULT = { forename: 'Leopold', surname: 'Vantongeren', phone: '+447700900777' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let fed: TestFederation;
const nodes = {} as Record<Member, TestNode>;
const ids = {} as Record<RecordName, string>;
let gmpFault: (answer: { data: unknown; receipt: string }) => Promise<unknown> = async (a) => a;
let lacoveAssociate = '';
let gmpLinkedEpisode = '';
let wmpAdultE = '';
const ADULT_E = { forename: 'Barnabus', surname: 'Quickthorne', phone: '+447700900778' };

async function publishSubject(client: McxClient, subjectRef: string, identity: Record<string, unknown>) {
  const { publishSubject: r } = await client.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity } });
  expect(r.errors).toEqual([]);
}

/** A client for `who` at `node`, minted by that node's development issuer. */
function as(node: TestNode, who: Requester): Promise<McxClient> {
  return node.as({
    roles: ['investigator'],
    orgKind: who.orgKind,
    force: who.force,
    subject: `u-${who.name.replace(/\W+/g, '-')}`,
    kind: 'user',
    headers: { 'x-mcx-purpose': who.purpose, 'x-mcx-case-ref': 'CASE-26-4242' },
  });
}

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(MEMBERS.map(async (m) => [m, await freePort()] as const))) as Record<Member, number>;
  const all = PEER_OPERATIONS.map((op) => op.name);
  fed = await createFederation([...MEMBERS], {
    endpoints: Object.fromEntries(MEMBERS.map((m) => [m, `http://127.0.0.1:${ports[m]}`])),
    capabilities: all,
    capabilitiesOf: { MPS: all.filter((name) => name !== PEER_HISTORY.name) },
    kinds: { LACOVE: 'local_authority' },
  });
  await Promise.all(
    MEMBERS.map(async (m) => {
      nodes[m] = await startTestNode({
        force: m,
        keys: fed.keys[m]!,
        env: { ...fed.nodeEnv(m), PORT: String(ports[m]) },
        ...(m === 'GMP' ? { peerAnswerFault: (a) => gmpFault(a) } : {}),
      });
    }),
  );
  // WMP: the child, with one episode of each handling code, condition and grade.
  await publishSubject(nodes.WMP.client, 'SUBJ-WMP-1', CHILD);
  for (const [name, grading] of Object.entries(RECORDS) as [RecordName, McxGradingInput | null][]) {
    const { episode, errors } = await publishEpisode(
      nodes.WMP.client,
      episodeInput({ subjectRef: 'SUBJ-WMP-1', ...MATRIX_EPISODE, grading }),
    );
    expect(errors).toEqual([]);
    ids[name] = episode!.id;
  }
  // Coventry: the same child, found with an adult it holds; GMP: another child found with the same adult.
  await publishSubject(nodes.LACOVE.client, 'SUBJ-COV-1', CHILD);
  const held = await publishAssociate(nodes.LACOVE.client, associateInput({ ownerReference: 'COV-ASC-1', identity: ADULT }));
  expect(held.errors).toEqual([]);
  lacoveAssociate = held.associate!.id;
  const cov = await publishEpisode(
    nodes.LACOVE.client,
    episodeInput({
      subjectRef: 'SUBJ-COV-1',
      associates: [{ owner: 'LACOVE', associateId: lacoveAssociate, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(cov.errors).toEqual([]);
  await publishSubject(nodes.GMP.client, 'SUBJ-GMP-9', OTHER_CHILD);
  const theirs = await publishAssociate(nodes.GMP.client, associateInput({ ownerReference: 'GMP-ASC-9', identity: ADULT }));
  expect(theirs.errors).toEqual([]);
  const gmp = await publishEpisode(
    nodes.GMP.client,
    episodeInput({
      subjectRef: 'SUBJ-GMP-9',
      associates: [{ owner: 'GMP', associateId: theirs.associate!.id, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(gmp.errors).toEqual([]);
  gmpLinkedEpisode = gmp.episode!.id;
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

afterAll(async () => {
  await Promise.all(MEMBERS.map((m) => nodes[m]?.close()));
  await fed?.close();
});

describe("a requester's own organisation decides what the owner discloses, locally and through the federation alike", () => {
  for (const row of MATRIX) {
    it(`${row.who.name}: the federated view of each record is exactly the local view`, async () => {
      // Other police ask from their own node; the owner's own police and its partners ask through WMP, which asks itself.
      const home = row.who.force === 'GMP' ? nodes.GMP : nodes.WMP;
      const local = await as(nodes.WMP, row.who);
      const federated = (await (await as(home, row.who)).request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
      const fromWmp = new Map(federated.strong.filter((e) => e.episode.owner === 'WMP').map((e) => [e.episode.id, e.episode]));
      for (const name of Object.keys(RECORDS) as RecordName[]) {
        const mine = await localEpisode(local, 'WMP', ids[name]);
        const theirs = fromWmp.get(ids[name]) ?? null;
        expect(theirs === null, `${name}: withheld alike`).toBe(mine === null);
        expect(mine === null, `${name}: as the matrix says`).toBe(!row.sees.includes(name));
        if (!mine || !theirs) continue;
        // The same signed bytes: the same fields removed or coarsened, the same note.
        expect(theirs.recordBytes, name).toBe(mine.recordBytes);
        expect(theirs.missingFrom, name).toEqual(mine.missingFrom);
        expect(theirs.assessment.indicators, name).toEqual(mine.assessment.indicators);
      }
      const wmp = federated.federation.members.find((m) => m.member === 'WMP')!;
      expect(wmp.status).toBe('ANSWERED');
      expect(wmp.withheld?.notDisclosable).toBe(6 - row.sees.length);
    });
  }

  it("the owner's disclosure entry names the requester's organisation, and the member that asked", async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const entries = (await allEntries(auditor)).filter((e) => e.action === 'DISCLOSURE' && e.operation === 'peerHistory');
    const byLa = entries.filter((e) => e.actor.force === 'LABIRM');
    expect(byLa.length).toBeGreaterThan(0);
    for (const e of byLa) expect(e).toMatchObject({ requestingNode: 'WMP', actor: { force: 'LABIRM', orgKind: 'local_authority' } });
    expect(entries.some((e) => e.actor.force === 'GMP' && e.requestingNode === 'GMP')).toBe(true);
    expect(entries.some((e) => e.actor.force === 'PRV001' && e.actor.orgKind === 'provider' && e.requestingNode === 'WMP')).toBe(true);
  });
});

describe('fishing alerts at the owner', () => {
  it("count another force's reads of its records, not only its own investigators'", async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const { auditAlerts } = (await auditor.request(
      AUDIT_ALERTS as never,
      { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), t: 0 } as never,
    )) as { auditAlerts: { kind: string; actorSubject: string; count: number }[] };
    // The GMP investigators' reads reached WMP only as disclosures through the peer protocol.
    const gmp = auditAlerts.filter((a) => /volume/i.test(a.kind) && a.actorSubject.startsWith('u-other-police'));
    expect(gmp.map((a) => a.actorSubject).sort()).toEqual(['u-other-police-live-search', 'u-other-police-repeat-review']);
    for (const a of gmp) expect(a.count).toBeGreaterThanOrEqual(1);
  });
});

describe('every member of the manifest is in the status', () => {
  it('a member that does not offer the operation is NOT_OFFERED, and the answer is PARTIAL', async () => {
    const r = (await nodes.GMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
    expect(r.federation.members.map((m) => m.member).sort()).toEqual([...MEMBERS].sort());
    expect(r.federation.members.find((m) => m.member === 'MPS')).toMatchObject({
      status: 'NOT_OFFERED',
      reason: 'OPERATION_NOT_OFFERED',
      withheld: null,
    });
    for (const m of ['WMP', 'GMP', 'LACOVE']) expect(r.federation.members.find((x) => x.member === m)?.status, m).toBe('ANSWERED');
    expect(r.federation.completeness).toBe('PARTIAL');
  });
});

describe("a local authority's node counts its associate's links for a police requester", () => {
  it('the counts are complete, and name the force that holds another child', async () => {
    const r = (await nodes.GMP.investigator.request(ChildHistoryDocument, { identity: CHILD })).childHistory;
    const a = r.associates.find((x) => x.pointer.owner === 'LACOVE' && x.pointer.id === lacoveAssociate)!;
    expect(a).toBeDefined();
    expect(a.linksComplete).toBe(true);
    expect(a.otherChildrenLinked).toBe(1);
    expect(a.forcesLinked).toEqual(['GMP']);
    // Each member that counted logged it as a disclosure to Coventry's node, speaking for itself.
    const auditor = await nodes.GMP.as({ roles: ['auditor'] });
    const counted = (await allEntries(auditor)).filter((e) => e.operation === 'peerAssociateLinks');
    expect(counted.at(-1)).toMatchObject({
      requestingNode: 'LACOVE',
      actor: { force: 'LACOVE', orgKind: 'local_authority', subject: 'node:LACOVE' },
      reason: 'LINK_COUNTS',
    });
  });

  it('a reviewed episode still links its associates (the review keeps the indexed links)', async () => {
    const reviewAt = new Date(Date.now() + 500 * 86400_000).toISOString().slice(0, 10);
    const { reviewRecord } = await nodes.GMP.client.request(ReviewRecordDocument, {
      kind: 'EPISODE',
      id: gmpLinkedEpisode,
      version: 2,
      reviewAt,
    });
    expect(reviewRecord.errors).toEqual([]);
    const r = (await nodes.GMP.investigator.request(ChildHistoryDocument, { identity: CHILD })).childHistory;
    const a = r.associates.find((x) => x.pointer.owner === 'LACOVE' && x.pointer.id === lacoveAssociate)!;
    expect(a).toMatchObject({ otherChildrenLinked: 1, forcesLinked: ['GMP'], linksComplete: true });
  });
});

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

describe('a disclosure receipt proves its checkpoint', () => {
  const gmpReceipt = (a: { receipt: string }, checkpoint: string) => {
    const { receipt } = verifyReceipt(a.receipt, keyResolverFromKeys([toPublicKey(fed.keys.GMP!.auditCheckpoint)]));
    return signReceipt({ ...receipt, checkpoint }, fed.keys.GMP!.auditCheckpoint);
  };

  for (const [what, checkpoint] of [
    ['a checkpoint that is not a JWS', () => 'not.a.checkpoint'],
    [
      "another member's checkpoint",
      () => signCheckpoint({ node: 'WMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.WMP!.auditCheckpoint),
    ],
    [
      "the member's checkpoint signed with another member's key",
      () => signCheckpoint({ node: 'GMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.WMP!.auditCheckpoint),
    ],
    [
      'a checkpoint naming another node, signed with the member’s key',
      () => signCheckpoint({ node: 'WMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.GMP!.auditCheckpoint),
    ],
  ] as const) {
    it(`${what}: the member's answer is dropped as BAD_DATA`, async () => {
      gmpFault = async (a) => ({ ...a, receipt: gmpReceipt(a, checkpoint()) });
      try {
        const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
        expect(r.federation.members.find((m) => m.member === 'GMP')).toMatchObject({
          status: 'BAD_DATA',
          reason: expect.stringMatching(/^RECEIPT_(INVALID|CHECKPOINT_MISMATCH)$/),
        });
        expect(r.federation.completeness).toBe('PARTIAL');
      } finally {
        gmpFault = async (a) => a;
      }
    });
  }

  it('an honest receipt with its real checkpoint is accepted', async () => {
    const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
    expect(r.federation.members.find((m) => m.member === 'GMP')?.status).toBe('ANSWERED');
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
    const json = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    expect(json.data).toBeUndefined();
    expect(json.errors?.[0]).toMatchObject({
      message: expect.stringContaining('Field duplication limit exceeded'),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});
