/**
 * A record changed in its owner's database (DESIGN.md "Keys and the manifest"). The tampering is
 * direct SQL: one character of a stored record's bytes, a column beside them, or another record's
 * genuine bytes and signature moved into the row. Everything else goes through the node's public
 * interfaces. The node verifies the stored signature before any use of the bytes: the record is
 * withheld and counted, never signed again, logged as an integrity fault and shown to operators.
 */
import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  AssociatePointerDocument,
  CloseEpisodeDocument,
  LocalLocationOfConcernDocument,
  NodeStatusDocument,
  RestrictRecordDocument,
  ReviewRecordDocument,
  type McxClient,
} from '@mcx/client';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, localEpisode, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate, publishLocation } from '../testkit/records.js';

const ENTITIES = gql`
  query Entities($r: [_Any!]!) {
    _entities(representations: $r) {
      ... on MissingEpisode {
        id
      }
    }
  }
`;

let t: TestNode;
let sql: postgres.Sql;
/** A local authority's safeguarding lead: placement addresses are coarsened for them, and the view signed again. */
let localAuthority: McxClient;
let operator: McxClient;

beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
  sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
  localAuthority = await t.as({
    roles: ['investigator'],
    orgKind: 'local_authority',
    force: 'E08000025',
    kind: 'user',
    subject: 'la-lead-1',
    headers: { 'x-mcx-purpose': 'SAFEGUARDING_STRATEGY', 'x-mcx-case-ref': 'CASE-26-4242' },
  });
  operator = await t.as({ roles: ['operator'] });
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await t?.close();
});

/** Changes one occurrence of `from` in the current version's stored bytes to `to` (direct SQL). */
async function tamperBytes(id: string, from: string, to: string): Promise<void> {
  const [row] = await sql<
    { bytes: string }[]
  >`select v.bytes from record_versions v join records r using (owner, id, version) where r.owner = 'WMP' and r.id = ${id}`;
  expect(row!.bytes.split(from)).toHaveLength(2);
  const changed =
    await sql`update record_versions v set bytes = replace(v.bytes, ${from}, ${to}) from records r where r.owner = v.owner and r.id = v.id and r.version = v.version and r.owner = 'WMP' and r.id = ${id}`;
  expect(changed.count).toBe(1);
}

async function integrity() {
  return (await operator.request(NodeStatusDocument, {})).nodeStatus.integrity;
}

function faultLines(id: string): Record<string, unknown>[] {
  return t
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => (l.integrityFault as { id?: string } | undefined)?.id === id);
}

describe('a stored record changed in the database', () => {
  it('is withheld, not signed again, when the policy would coarsen it for the requester; counted, logged and shown to operators', async () => {
    const subjectRef = 'SUBJ-INT-1';
    const placement = episodeInput({
      subjectRef,
      missingFrom: { kind: 'FOSTER', location: { postcode: 'B15 2TT' } },
      foundPlace: { kind: 'OTHER', location: { postcode: 'B1 1AA', lat: 52.4796, lon: -1.9026 } },
    });
    const honest = episodeInput({ subjectRef, missingFrom: { kind: 'HOME', location: { postcode: 'B13 8JP' } } });
    for (const e of [placement, honest]) expect((await publishEpisode(t.client, e)).errors).toEqual([]);
    // Untouched, the local authority gets the placement coarsened: a view the owner signs again.
    const view = await localEpisode(localAuthority, 'WMP', placement.id!);
    expect(view?.disclosure?.coarsened).toEqual(['facts.missingFrom.location']);

    await tamperBytes(placement.id!, '"postcode":"B1 1AA"', '"postcode":"B1 1AB"');

    // The single read, the list and entity resolution all withhold it; the honest record still comes.
    expect(await localEpisode(localAuthority, 'WMP', placement.id!)).toBeNull();
    const list = await localEpisodes(localAuthority, { subjectRef });
    expect(list.nodes.map((n) => n.id)).toEqual([honest.id]);
    expect(list.withheld).toEqual({ restricted: 0, reviewOverdue: 0, notDisclosable: 0, integrityFault: 1 });
    const entities = await localAuthority.raw(ENTITIES, { r: [{ __typename: 'MissingEpisode', owner: 'WMP', id: placement.id }] });
    expect(entities.data).toEqual({ _entities: [null] });
    // The owner's own readers, who would get the stored bytes unchanged, do not get them either.
    expect(await localEpisode(t.investigator, 'WMP', placement.id!)).toBeNull();
    expect((await localEpisodes(t.investigator, { subjectRef })).withheld.integrityFault).toBe(1);
    expect(JSON.stringify(list)).not.toContain('B1 1AB');

    // The read is audited with the reason.
    const entries = await allEntries(await t.as({ roles: ['auditor'], subject: 'dpo-1' }), { actorSubject: 'la-lead-1' });
    expect(entries.filter((e) => e.operation === 'localEpisode').at(-1)).toMatchObject({ recordIds: [], reason: 'INTEGRITY_FAULT' });

    // An error line names it (kind, owner, id, version, reason) and holds none of its content.
    const lines = faultLines(placement.id!);
    expect(lines[0]).toMatchObject({
      level: 'error',
      integrityFault: { kind: 'episode', owner: 'WMP', id: placement.id, version: 1, reason: 'BAD_SIGNATURE' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/B1 1A|B15|FOSTER|SUBJ-INT/);

    // Operators see it without reading logs: nodeStatus and /readyz.
    const status = await integrity();
    expect(status.state).toBe('FAULT');
    expect(status.faultsDetected).toBeGreaterThanOrEqual(4);
    expect(status.recent).toContainEqual(
      expect.objectContaining({ kind: 'EPISODE', owner: 'WMP', id: placement.id, version: 1, reason: 'BAD_SIGNATURE' }),
    );
    const ready = (await (await fetch(`${t.node.url}/readyz`)).json()) as {
      ready: boolean;
      integrity: { state: string; faultsDetected: number };
    };
    expect(ready).toMatchObject({ ready: true, integrity: { state: 'FAULT' } });
    expect(ready.integrity.faultsDetected).toBeGreaterThanOrEqual(4);
  });

  it('is never signed again by a write that builds on it; a retry of it is refused, and a new version is the remedy', async () => {
    const input = episodeInput({ subjectRef: 'SUBJ-INT-2', status: 'OPEN', foundAt: null, foundPlace: null, returnInterview: null });
    expect((await publishEpisode(t.client, input)).errors).toEqual([]);
    await tamperBytes(input.id!, '"riskGrade":"MEDIUM"', '"riskGrade":"MEDIUN"');
    const refused = [{ field: 'id', code: 'INTEGRITY_FAULT', message: expect.stringContaining('signature check') }];
    // Closing builds the next version from the stored one; reviewing signs the same content again.
    const { closeEpisode } = await t.client.request(CloseEpisodeDocument, {
      input: { id: input.id, version: 2, foundAt: new Date().toISOString(), foundBy: 'POLICE' },
    });
    expect(closeEpisode).toEqual({ episode: null, errors: refused.map((e) => expect.objectContaining(e)) });
    const { reviewRecord } = await t.client.request(ReviewRecordDocument, {
      kind: 'EPISODE',
      id: input.id!,
      version: 2,
      reviewAt: new Date(Date.now() + 500 * 86400_000).toISOString().slice(0, 10),
    });
    expect(reviewRecord).toEqual({ record: null, errors: refused.map((e) => expect.objectContaining(e)) });
    // A restriction would hand the stored bytes back; a retry of the same version would too.
    const { restrictRecord } = await t.client.request(RestrictRecordDocument, {
      kind: 'EPISODE',
      id: input.id!,
      reason: 'ACCURACY_CONTESTED',
    });
    expect(restrictRecord).toEqual({ record: null, errors: refused.map((e) => expect.objectContaining(e)) });
    const retry = await publishEpisode(t.client, input);
    expect(retry).toEqual({ episode: null, errors: refused.map((e) => expect.objectContaining(e)) });
    const [stored] = await sql<
      { versions: number; state: string }[]
    >`select (select count(*)::int from record_versions where id = ${input.id!}) as versions, state from records where id = ${input.id!}`;
    expect(stored).toEqual({ versions: 1, state: 'ACTIVE' });
    // The publisher sends the record again as a new version: signed fresh, readable again.
    const amended = await publishEpisode(t.client, { ...input, version: 2 });
    expect(amended.errors).toEqual([]);
    expect((await localEpisode(t.investigator, 'WMP', input.id!))?.assessment.riskGrade).toBe('MEDIUM');
  });

  it('a column beside the signed bytes does not steer a read, and another record’s genuine bytes do not pass as this one', async () => {
    const mine = episodeInput({ subjectRef: 'SUBJ-INT-3' });
    const other = episodeInput({ subjectRef: 'SUBJ-INT-4' });
    const donor = episodeInput({ subjectRef: 'SUBJ-INT-5' });
    for (const e of [mine, other, donor]) expect((await publishEpisode(t.client, e)).errors).toEqual([]);
    // The subject column says the episode is another child's: that child's list must not get it.
    await sql`update records set subject_ref = 'SUBJ-INT-4' where owner = 'WMP' and id = ${mine.id!}`;
    const theirs = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-INT-4' });
    expect(theirs.nodes.map((n) => n.id)).toEqual([other.id]);
    expect(theirs.withheld.integrityFault).toBe(1);
    // The review date column a list selects by, changed: the list does not take it on the column's word.
    await sql`update records set review_at = '2099-12-31' where owner = 'WMP' and id = ${other.id!}`;
    const again = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-INT-4' });
    expect(again.nodes).toEqual([]);
    expect(again.withheld.integrityFault).toBe(2);
    // Another record's bytes and signature, genuine and signed by this node, moved into the row.
    await sql`update record_versions v set bytes = d.bytes, signature = d.signature from record_versions d where d.owner = 'WMP' and d.id = ${donor.id!} and v.owner = 'WMP' and v.id = ${mine.id!}`;
    expect(await localEpisode(t.investigator, 'WMP', mine.id!)).toBeNull();
    const reasons = (await integrity()).recent.filter((f) => [mine.id, other.id].includes(f.id)).map((f) => [f.id, f.reason]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        [mine.id, 'ENVELOPE_MISMATCH'],
        [other.id, 'INDEX_MISMATCH'],
      ]),
    );
  });

  it('bytes changed into something that is not JSON are one withheld record, not a failed list', async () => {
    const broken = episodeInput({ subjectRef: 'SUBJ-INT-6' });
    const kept = episodeInput({ subjectRef: 'SUBJ-INT-6' });
    for (const e of [broken, kept]) expect((await publishEpisode(t.client, e)).errors).toEqual([]);
    await tamperBytes(broken.id!, '{"assessment":', '["assessment":');
    const list = await localEpisodes(localAuthority, { subjectRef: 'SUBJ-INT-6' });
    expect(list.nodes.map((n) => n.id)).toEqual([kept.id]);
    expect(list.withheld).toEqual({ restricted: 0, reviewOverdue: 0, notDisclosable: 0, integrityFault: 1 });
  });

  it('an associate pointer and a location of concern built from changed bytes are withheld too', async () => {
    const associate = associateInput({ ownerReference: 'ASC-INT-0001' });
    const location = locationInput({ ownerReference: 'LOC-INT-0001' });
    expect((await publishAssociate(t.client, associate)).errors).toEqual([]);
    expect((await publishLocation(t.client, location)).errors).toEqual([]);
    const otherForce = await t.as({
      roles: ['investigator'],
      force: 'GMP',
      subject: 'gmp-inv-1',
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'GMP-26-1001' },
    });
    expect((await otherForce.request(AssociatePointerDocument, { owner: 'WMP', id: associate.id! })).associatePointer?.ownerReference).toBe(
      'ASC-INT-0001',
    );
    await tamperBytes(associate.id!, '"ownerReference":"ASC-INT-0001"', '"ownerReference":"ASC-INT-0007"');
    await tamperBytes(location.id!, '"ownerReference":"LOC-INT-0001"', '"ownerReference":"LOC-INT-0007"');
    // The pointer is a view the owner signs: it must not be made from the changed bytes.
    expect((await otherForce.request(AssociatePointerDocument, { owner: 'WMP', id: associate.id! })).associatePointer).toBeNull();
    expect(
      (await t.investigator.request(LocalLocationOfConcernDocument, { owner: 'WMP', id: location.id! })).localLocationOfConcern,
    ).toBeNull();
    const recent = (await integrity()).recent;
    expect(recent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'ASSOCIATE', id: associate.id }),
        expect.objectContaining({ kind: 'LOCATION_OF_CONCERN', id: location.id }),
      ]),
    );
  });
});
