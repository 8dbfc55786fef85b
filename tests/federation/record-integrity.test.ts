/**
 * Integrity across the federation: three real nodes on loopback, each with its own database,
 * one trust manifest and the linkage service. WMP asks. GMP's database is changed under it by
 * direct SQL (one character of a stored record). BTP is a member that signs malformed records
 * with its own, real record key: its faults are injected into a real node's answers.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ChildHistoryDocument,
  FederatedEpisodesDocument,
  FederatedLocationsOfConcernDocument,
  NodeStatusDocument,
  PublishSubjectDocument,
  type McxClient,
} from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { signRecord } from '@mcx/signing';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, memberRow, peerFaults, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { locationInput, publishLocation } from '../testkit/records.js';

const FORCES = ['WMP', 'GMP', 'BTP'] as const;
type Force = (typeof FORCES)[number];
// A synthetic child: no such person.
const CHILD = { forename: 'Ottoline', surname: 'Fenwright', dob: '2012-02-17', sex: 'FEMALE' as const };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
const NEAR = { lat: 52.4751, lon: -1.8907 };

type Answer = {
  data: Record<
    string,
    { records?: { kind: string; owner: string; id: string; version: number; bytes: string; signature: string }[]; withheld?: unknown }
  >;
  receipt: string;
};
type Wire = NonNullable<Answer['data'][string]['records']>[number];

let fed: TestFederation;
const nodes = {} as Record<Force, TestNode>;
const faults = peerFaults();
const ids = {} as Record<string, string>;

async function publishSubject(client: McxClient, subjectRef: string) {
  const { publishSubject: r } = await client.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity: CHILD } });
  expect(r.errors).toEqual([]);
}

async function seed(force: Force, over: Parameters<typeof episodeInput>[0] = {}): Promise<string> {
  const { episode, errors } = await publishEpisode(nodes[force].client, episodeInput({ subjectRef: `SUBJ-${force}-1`, ...over }));
  expect(errors).toEqual([]);
  return episode!.id;
}

/** The record signed again by BTP's real record key after `change` made it malformed. */
function resigned(wire: Wire, change: (record: Record<string, unknown>) => void): Wire {
  const record = JSON.parse(wire.bytes) as Record<string, unknown>;
  change(record);
  const signed = signRecord(record, fed.keys.BTP!.record);
  return { ...wire, bytes: signed.bytes, signature: signed.signature };
}

function episodes() {
  return nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD });
}

function locations() {
  return nodes.WMP.investigator.request(FederatedLocationsOfConcernDocument, { near: { ...NEAR, radiusMetres: 500 } });
}

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(FORCES.map(async (f) => [f, await freePort()] as const))) as Record<Force, number>;
  fed = await createFederation([...FORCES], {
    endpoints: Object.fromEntries(FORCES.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  });
  await Promise.all(
    FORCES.map(async (force) => {
      nodes[force] = await startTestNode({
        force,
        keys: fed.keys[force]!,
        env: { ...fed.nodeEnv(force), PORT: String(ports[force]), MCX_PEER_TIMEOUT_MS: '3000', MCX_FEDERATION_DEADLINE_MS: '6000' },
        peerAnswerFault: faults.hook(force),
      });
    }),
  );
  for (const force of FORCES) await publishSubject(nodes[force].client, `SUBJ-${force}-1`);
  ids.WMP = await seed('WMP');
  // GMP's foster placement, handling C: for another force's police the placement is coarsened,
  // so GMP signs a disclosed view of it again.
  ids.gmpPlacement = await seed('GMP', {
    missingFrom: { kind: 'FOSTER', location: { postcode: 'M14 5RB' } },
    foundPlace: { kind: 'OTHER', location: { postcode: 'M1 1AE', lat: 53.4794, lon: -2.2453 } },
    grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'C', conditions: ['CONFIRM_WITH_OWNER'] },
  });
  ids.gmpHonest = await seed('GMP');
  ids.btpOne = await seed('BTP');
  ids.btpTwo = await seed('BTP');
  ids.gmpLocation = (
    await publishLocation(nodes.GMP.client, locationInput({ ownerReference: 'LOC-GMP-0001', location: { postcode: 'B5 4BU', ...NEAR } }))
  ).locationOfConcern!.id;
  ids.btpLocation = (
    await publishLocation(nodes.BTP.client, locationInput({ ownerReference: 'LOC-BTP-0001', location: { postcode: 'B5 4BU', ...NEAR } }))
  ).locationOfConcern!.id;
}, 120_000);

afterAll(async () => {
  await Promise.all(FORCES.map((f) => nodes[f]?.close().catch(() => undefined)));
  await fed?.close();
});

describe('a record changed in its owner’s database', () => {
  it('does not reach another member: withheld and counted at the owner, logged there and shown to its operators', async () => {
    const before = (await episodes()).federatedEpisodes;
    expect(before.federation.completeness).toBe('COMPLETE');
    const placement = before.strong.find((e) => e.episode.id === ids.gmpPlacement)!;
    expect(placement.episode.disclosure?.coarsened).toEqual(['facts.missingFrom.location']);

    const sql = postgres(nodes.GMP.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const changed =
        await sql`update record_versions set bytes = replace(bytes, '"postcode":"M1 1AE"', '"postcode":"M1 1AF"') where owner = 'GMP' and id = ${ids.gmpPlacement!}`;
      expect(changed.count).toBe(1);
      await sql`update record_versions set bytes = replace(bytes, '"ownerReference":"LOC-GMP-0001"', '"ownerReference":"LOC-GMP-0007"') where owner = 'GMP' and id = ${ids.gmpLocation!}`;
    } finally {
      await sql.end({ timeout: 5 });
    }

    const after = (await episodes()).federatedEpisodes;
    expect(after.strong.map((e) => e.episode.id)).not.toContain(ids.gmpPlacement);
    expect(after.strong.map((e) => e.episode.id)).toEqual(expect.arrayContaining([ids.gmpHonest, ids.WMP, ids.btpOne]));
    expect(JSON.stringify(after)).not.toContain('M1 1AF');
    const gmp = memberRow(after, 'GMP');
    // Protocol version 1 carries three counts: the owner counts it as not disclosable.
    expect(gmp).toMatchObject({
      status: 'ANSWERED',
      dropped: [],
      withheld: { restricted: 0, reviewOverdue: 0, notDisclosable: 1, integrityFault: null },
    });

    const near = (await locations()).federatedLocationsOfConcern;
    expect(near.locations.map((l) => l.location.id)).toEqual([ids.btpLocation]);
    expect(memberRow(near, 'GMP')).toMatchObject({
      status: 'ANSWERED',
      dropped: [],
      withheld: { notDisclosable: 1 },
    });

    const lines = nodes.GMP.logs()
      .split('\n')
      .filter((l) => l.includes('"integrityFault"'))
      .map((l) => JSON.parse(l) as { level: string; integrityFault: { id: string } });
    expect(lines.map((l) => [l.level, l.integrityFault.id])).toEqual(
      expect.arrayContaining([
        ['error', ids.gmpPlacement],
        ['error', ids.gmpLocation],
      ]),
    );
    const operator = await nodes.GMP.as({ roles: ['operator'] });
    const { integrity } = (await operator.request(NodeStatusDocument, {})).nodeStatus;
    expect(integrity.state).toBe('FAULT');
    expect(integrity.recent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'EPISODE', owner: 'GMP', id: ids.gmpPlacement, version: 1, reason: 'BAD_SIGNATURE' }),
        expect.objectContaining({ kind: 'LOCATION_OF_CONCERN', owner: 'GMP', id: ids.gmpLocation, version: 1, reason: 'BAD_SIGNATURE' }),
      ]),
    );
  });
});

describe('a member that signs malformed records', () => {
  it('has them dropped as MALFORMED and is reported BAD_DATA, while the other members’ records arrive', async () => {
    using _malformed = faults.lie('BTP', async (a) => {
      const answer = structuredClone(a as Answer);
      const records = answer.data.peerHistory?.records;
      if (records) {
        answer.data.peerHistory!.records = records.map((w) =>
          // Signed, but not an episode: associates is not a list, a risk grade that does not exist.
          w.id === ids.btpOne
            ? resigned(w, (r) => void ((r.facts as Record<string, unknown>).associates = 'none'))
            : w.id === ids.btpTwo
              ? resigned(w, (r) => void ((r.assessment as Record<string, unknown>).riskGrade = 'EXTREME'))
              : w,
        );
      }
      const near = answer.data.peerLocations?.records;
      if (near) answer.data.peerLocations!.records = near.map((w) => resigned(w, (r) => delete r.assessment));
      return answer;
    });
    const r = (await episodes()).federatedEpisodes;
    const btp = memberRow(r, 'BTP');
    expect(btp).toMatchObject({ status: 'BAD_DATA', reason: 'RECORDS_DROPPED' });
    expect(btp.dropped.map((d) => [d.owner, d.id, d.reason]).sort()).toEqual(
      [
        ['BTP', ids.btpOne, 'MALFORMED'],
        ['BTP', ids.btpTwo, 'MALFORMED'],
      ].sort(),
    );
    expect(r.federation.completeness).toBe('PARTIAL');
    expect(r.strong.map((e) => e.episode.id)).toEqual(expect.arrayContaining([ids.WMP, ids.gmpHonest]));
    expect(r.strong.filter((e) => e.episode.owner === 'BTP')).toEqual([]);

    const history = (await nodes.WMP.investigator.request(ChildHistoryDocument, { identity: CHILD })).childHistory;
    expect(history.federation.completeness).toBe('PARTIAL');
    expect(memberRow(history, 'BTP')).toMatchObject({ status: 'BAD_DATA' });
    expect(history.incidents.flatMap((i) => i.sources.map((s) => s.owner))).toEqual(expect.arrayContaining(['GMP', 'WMP']));
    expect(history.incidents.flatMap((i) => i.sources.map((s) => s.owner))).not.toContain('BTP');

    const near = (await locations()).federatedLocationsOfConcern;
    expect(memberRow(near, 'BTP')).toMatchObject({
      status: 'BAD_DATA',
      reason: 'RECORDS_DROPPED',
      dropped: [{ owner: 'BTP', id: ids.btpLocation, reason: 'MALFORMED' }],
    });
    expect(near.federation.completeness).toBe('PARTIAL');

    // An answer whose counts are not counts is that member's fault alone.
    using _counts = faults.lie('BTP', async (a) => {
      const answer = structuredClone(a as Answer);
      answer.data.peerHistory!.withheld = { restricted: 1.5, reviewOverdue: -1, notDisclosable: 'x' };
      return answer;
    });
    const counts = (await episodes()).federatedEpisodes;
    expect(memberRow(counts, 'BTP')).toMatchObject({
      status: 'BAD_DATA',
      reason: 'MALFORMED_ANSWER',
      withheld: null,
    });
    expect(counts.strong.map((e) => e.episode.id)).toEqual(expect.arrayContaining([ids.WMP, ids.gmpHonest]));
  });
});
