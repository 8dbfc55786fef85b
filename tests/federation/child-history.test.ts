/**
 * The child's history on the shared scenario (tests/fixtures/federation-scenario.json): its
 * four members run as real nodes, everything is loaded through the public mutations, and
 * childHistory must give every item under `expected`, as of `asOf`. Member codes are mapped to
 * the reference data's (LAN is LANCS, MER is MERS, LCC is LALANC).
 */
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ChildHistoryDocument,
  FederatedLocationsOfConcernDocument,
  PublishSubjectDocument,
  type McxClient,
  type MissingEpisodeInput,
} from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate, publishLocation, retractRecord } from '../testkit/records.js';

interface Place {
  uprn?: string;
  postcode?: string;
  lat?: number;
  lon?: number;
  kind: string;
}
interface ScenarioEpisode {
  ref: string;
  owner: string;
  identity: { forename: string; surname: string; dob: string; sex: string };
  status?: 'OPEN';
  reportedAt: string;
  lastSeenAt: string;
  foundAt?: string;
  missingFrom: Place;
  foundAt_place?: Place;
  risk: 'VERY_LOW' | 'LOW' | 'MEDIUM' | 'HIGH';
  indicators: string[];
  associates?: { ref: string; role: string }[];
  rhi?: { offered: boolean; within72h?: boolean; completed?: boolean };
  confirmWithOwnerBeforeActing?: boolean;
  retracted?: boolean;
  reviewAt?: string;
}
const scenario = JSON.parse(readFileSync(new URL('../fixtures/federation-scenario.json', import.meta.url), 'utf8')) as {
  asOf: string;
  members: { code: string; kind: string }[];
  child: { forename: string; surname: string; dob: string; sex: string };
  childCare: { placingAuthority: string };
  associates: {
    ref: string;
    owner: string;
    identity: Record<string, string>;
    flags: string[];
    handling: string;
    alsoLinkedTo: { owner: string; child: { forename: string; surname: string; dob: string; sex: string } }[];
  }[];
  locationsOfConcern: { ref: string; owner: string; place: Place; concerns: string[]; active: boolean }[];
  episodes: ScenarioEpisode[];
  expected: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

const CODE: Record<string, string> = { LAN: 'LANCS', GMP: 'GMP', MER: 'MERS', LCC: 'LALANC' };
const code = (c: string) => CODE[c] ?? c;
const SEX: Record<string, 'FEMALE' | 'MALE'> = { F: 'FEMALE', M: 'MALE' };
const HOUR = 3_600_000;
const asOf = new Date(scenario.asOf);
let clock = asOf;

let fed: TestFederation;
const nodes: Record<string, TestNode> = {};
const ids: Record<string, string> = {};
const refOf = (owner: string, id: string) => Object.keys(ids).find((k) => ids[k] === id && k.startsWith('E')) ?? `${owner}/${id}`;
let investigator: McxClient;
let history: Awaited<ReturnType<typeof ask>>;

const identity = (c: { forename: string; surname: string; dob: string; sex: string }) => ({
  forename: c.forename,
  surname: c.surname,
  dob: c.dob,
  sex: SEX[c.sex],
});
const subjectRef = (c: { forename: string; surname: string }) => `SUBJ-${c.forename}-${c.surname}`.toUpperCase();

/** Scenario place kinds our episodes do not have (a residential address, a transport hub) are OTHER. */
function place(p: Place) {
  const kind = ['HOME', 'FOSTER', 'CHILDRENS_HOME', 'SEMI_INDEPENDENT', 'SCHOOL'].includes(p.kind) ? p.kind : 'OTHER';
  return {
    kind: kind as 'OTHER',
    location: { uprn: p.uprn ?? null, postcode: p.postcode ?? null, lat: p.lat ?? null, lon: p.lon ?? null },
  };
}

async function subject(force: string, child: { forename: string; surname: string; dob: string; sex: string }) {
  const reviewAt = new Date(asOf.getTime() + 365 * 24 * HOUR).toISOString().slice(0, 10);
  const { publishSubject: r } = await nodes[force]!.client.request(PublishSubjectDocument, {
    input: { subjectRef: subjectRef(child), reviewAt, identity: identity(child) },
  });
  expect(r.errors).toEqual([]);
}

function episodeInput(e: ScenarioEpisode): MissingEpisodeInput {
  const found = e.foundAt ? Date.parse(e.foundAt) : null;
  const rhi =
    e.rhi && found !== null
      ? {
          offered: e.rhi.offered,
          offeredAt: e.rhi.offered ? new Date(found + (e.rhi.within72h ? 24 : 96) * HOUR).toISOString() : null,
          completedAt: e.rhi.completed ? new Date(found + 48 * HOUR).toISOString() : null,
          ...(e.rhi.offered ? {} : { notHeldReason: 'CHILD_NOT_CONTACTABLE' as const }),
        }
      : null;
  return {
    id: crypto.randomUUID(),
    version: 1,
    ownerReference: `${code(e.owner)}-${e.ref}`,
    subjectRef: subjectRef(e.identity),
    ...(e.reviewAt ? { reviewAt: e.reviewAt.slice(0, 10) } : {}),
    status: e.status ?? 'CLOSED',
    reportedAt: e.reportedAt,
    lastSeenAt: e.lastSeenAt,
    foundAt: e.foundAt ?? null,
    missingFrom: place(e.missingFrom),
    careStatus: 'LOOKED_AFTER',
    placingAuthority: code(scenario.childCare.placingAuthority),
    foundPlace: e.foundAt_place ? place(e.foundAt_place) : null,
    foundBy: e.foundAt ? 'POLICE' : null,
    assessment: { riskGrade: e.risk, indicators: e.indicators as never, regrades: [] },
    associates: (e.associates ?? []).map((a) => ({
      owner: code(scenario.associates.find((s) => s.ref === a.ref)!.owner),
      associateId: ids[a.ref]!,
      role: a.role as 'FOUND_WITH',
      dataSubjectCategory: 'SUSPECT',
    })),
    returnInterview: rhi,
    grading: e.confirmWithOwnerBeforeActing
      ? { scheme: '3x5x2', source: '1', intelligence: 'B', handling: 'C', conditions: ['CONFIRM_WITH_OWNER'] }
      : null,
  };
}

function ask() {
  return investigator.request(ChildHistoryDocument, { identity: identity(scenario.child) }).then((r) => r.childHistory);
}

beforeAll(async () => {
  const members = scenario.members.map((m) => code(m.code));
  const ports = Object.fromEntries(await Promise.all(members.map(async (m) => [m, await freePort()] as const)));
  fed = await createFederation(members, {
    endpoints: Object.fromEntries(members.map((m) => [m, `http://127.0.0.1:${ports[m]}`])),
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: Object.fromEntries(scenario.members.map((m) => [code(m.code), m.kind === 'LOCAL_AUTHORITY' ? 'local_authority' : 'police'])),
  });
  await Promise.all(
    members.map(
      async (m) =>
        (nodes[m] = await startTestNode({
          force: m,
          keys: fed.keys[m]!,
          env: { ...fed.nodeEnv(m), PORT: String(ports[m]) },
          now: () => clock,
        })),
    ),
  );

  // Children: the child at every member, the surname changed in care at MER, and the other children AS1 is linked to.
  for (const m of members) await subject(m, scenario.child);
  for (const e of scenario.episodes.filter((x) => x.identity.surname !== scenario.child.surname)) await subject(code(e.owner), e.identity);
  // Associates: AS1 at its owner; each other child's owner holds its own record of the same person.
  for (const a of scenario.associates) {
    const input = associateInput(
      {
        ownerReference: `${code(a.owner)}-${a.ref}`,
        identity: a.identity,
        flags: a.flags as never,
        grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: a.handling, conditions: [] },
      },
      asOf,
    );
    const { associate, errors } = await publishAssociate(nodes[code(a.owner)]!.client, input);
    expect(errors).toEqual([]);
    ids[a.ref] = associate!.id;
    for (const [n, link] of a.alsoLinkedTo.entries()) {
      const owner = code(link.owner);
      await subject(owner, link.child);
      let associateId = ids[a.ref]!;
      if (owner !== code(a.owner)) {
        const theirs = await publishAssociate(
          nodes[owner]!.client,
          associateInput(
            {
              ownerReference: `${owner}-${a.ref}-OWN`,
              identity: a.identity,
              flags: a.flags as never,
              grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] },
            },
            asOf,
          ),
        );
        expect(theirs.errors).toEqual([]);
        associateId = theirs.associate!.id;
      }
      const lastSeen = new Date(Date.parse('2026-07-01T10:00:00Z') + n * 24 * HOUR);
      const { errors: e } = await publishEpisode(nodes[owner]!.client, {
        ...episodeInput({
          ref: `L${n}`,
          owner: link.owner,
          identity: link.child,
          reportedAt: new Date(lastSeen.getTime() + HOUR).toISOString(),
          lastSeenAt: lastSeen.toISOString(),
          foundAt: new Date(lastSeen.getTime() + 6 * HOUR).toISOString(),
          missingFrom: { kind: 'HOME', postcode: 'PR1 1AA' },
          risk: 'MEDIUM',
          indicators: [],
        }),
        associates: [{ owner, associateId, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
      });
      expect(e).toEqual([]);
    }
  }
  for (const l of scenario.locationsOfConcern) {
    const { locationOfConcern, errors } = await publishLocation(
      nodes[code(l.owner)]!.client,
      locationInput(
        {
          ownerReference: `${code(l.owner)}-${l.ref}`,
          location: { uprn: l.place.uprn ?? null, postcode: l.place.postcode ?? null, lat: l.place.lat ?? null, lon: l.place.lon ?? null },
          placeKind: l.place.kind as 'RESIDENTIAL',
          concerns: l.concerns as never,
          active: l.active,
          grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: 'P', conditions: [] },
        },
        asOf,
      ),
    );
    expect(errors).toEqual([]);
    ids[l.ref] = locationOfConcern!.id;
  }
  for (const e of scenario.episodes) {
    // A record already past its review date at asOf was published before that date.
    if (e.reviewAt) clock = new Date(Date.parse(e.reportedAt) + 24 * HOUR);
    const { episode, errors } = await publishEpisode(nodes[code(e.owner)]!.client, episodeInput(e));
    clock = asOf;
    expect(errors, e.ref).toEqual([]);
    ids[e.ref] = episode!.id;
    if (e.retracted) expect((await retractRecord(nodes[code(e.owner)]!.client, 'EPISODE', episode!.id, 2)).errors).toEqual([]);
  }
  investigator = await nodes.LANCS!.as({ roles: ['investigator'], headers: readHeaders('LANCS') });
  history = await ask();
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.close().catch(() => undefined)));
  await fed?.close();
});

const ex = scenario.expected;
const incidentRefs = (i: { sources: { episode: { owner: string; id: string } }[] }) =>
  i.sources
    .map((s) => refOf(s.episode.owner, s.episode.id))
    .sort()
    .join('+');

describe('childHistory on the scenario, as of asOf', () => {
  it('puts the open incident first: one incident from both sources, with the owners contact and confirm-with-owner', () => {
    expect(history.asOf).toBe(asOf.toISOString());
    expect(history.openNow).toHaveLength(ex.openNow.incidents);
    const open = history.openNow[0]!;
    expect(open.sources.map((s) => refOf(s.episode.owner, s.episode.id)).sort()).toEqual(ex.openNow.sources);
    expect(open.confirmWithOwnerBeforeActing).toBe(ex.openNow.confirmWithOwnerBeforeActing);
    expect(
      open.sources.every((s) => s.contact === '+44 100 000 0000' && s.ownerReference.endsWith(refOf(s.episode.owner, s.episode.id))),
    ).toBe(true);
    expect(open.sources.find((s) => refOf(s.episode.owner, s.episode.id) === 'E3')!.confirmWithOwner).toBe(true);
  });

  it('lists strong incidents reconciled, possible matches apart, and never the retracted or overdue', () => {
    expect(history.incidents.map(incidentRefs).sort()).toEqual(ex.strongIncidents.map((r: string) => r.split('+').sort().join('+')).sort());
    expect(history.incidents.map((i) => i.reportedAt)).toEqual([...history.incidents.map((i) => i.reportedAt)].sort().reverse());
    expect(history.possible.map((p) => refOf(p.episode.owner, p.episode.id))).toEqual(ex.possibleMatches);
    const shown = [...history.incidents.flatMap((i) => i.sources.map((s) => s.episode.id)), ...history.possible.map((p) => p.episode.id)];
    for (const ref of ex.notShown) expect(shown).not.toContain(ids[ref]);
  });

  it('gives the risk summary over strong matches', () => {
    const r = ex.riskSummary;
    expect(history.riskSummary).toEqual({
      last30Days: r.last30Days,
      last90Days: r.last90Days,
      last365Days: r.last365Days,
      repeatThreshold: {
        count: r.repeatThreshold.count,
        days: r.repeatThreshold.days,
        incidents: r.last90Days,
        crossed: r.repeatThreshold.crossed,
      },
      highestGrade: r.highestGrade,
      latestGrade: r.latestGrade,
      indicators: r.indicators,
      forcesInvolved: r.forcesInvolved.map(code).sort(),
      outOfAreaIncidents: r.outOfAreaIncidents,
      overdueReturnInterviews: r.overdueReturnInterviews,
    });
  });

  it('ranks previous destinations by UPRN, then postcode, with the episodes found there', () => {
    expect(
      history.previousDestinations.map((d) => ({
        timesFound: d.timesFound,
        episodes: d.visits.map((v) => refOf(v.owner, v.episodeId)).sort(),
      })),
    ).toEqual(
      ex.previousDestinations.map((d: { timesFound: number; episodes: string[] }) => ({ timesFound: d.timesFound, episodes: d.episodes })),
    );
    expect(history.previousDestinations[0]).toMatchObject({ uprn: '100010000001' });
    expect(history.previousDestinations[1]).toMatchObject({ uprn: null, postcode: 'L1 1JD' });
    expect(history.previousDestinations[0]!.score).toBeGreaterThan(history.previousDestinations[1]!.score);
  });

  it('gives associates as pointers with cross-force link counts, never a name', () => {
    const [a] = ex.associates;
    expect(history.associates).toHaveLength(1);
    const got = history.associates[0]!;
    expect(got.pointer).toMatchObject({ owner: code('LAN'), id: ids.AS1, kind: 'ADULT_OF_CONCERN', flags: ['ADULT_OF_CONCERN'] });
    expect(got.seenIn.map((s) => refOf(s.owner, s.episodeId)).sort()).toEqual(a.seenIn);
    expect(got.otherChildrenLinked).toBe(a.otherChildrenLinked);
    expect(got.forcesLinked).toEqual(a.forcesLinked.map(code).sort());
    expect(got.linksComplete).toBe(true);
    expect(JSON.stringify(history)).not.toMatch(/Darren|Cole|Amy|Hill|Kyle|Dean|Jade|Thomas|Walker|447700900123/);
  });

  it('finds the locations of concern near previous destinations', () => {
    expect(history.locationsOfConcern.map((l) => l.location.id)).toEqual(ex.locationsOfConcernNearDestinations.map((r: string) => ids[r]));
    expect(history.locationsOfConcern[0]!.distanceMetres).toBe(0);
  });

  it('says every member answered, and what each withheld', () => {
    expect(history.federation.completeness).toBe(ex.federation.completeness);
    const statuses = Object.fromEntries(history.federation.members.map((m) => [m.member, m.status]));
    expect(statuses).toEqual(
      Object.fromEntries(Object.entries(ex.federation.statuses as Record<string, string>).map(([k, v]) => [code(k), v])),
    );
    const withheld = Object.fromEntries(
      history.federation.members
        .map((m) => [m.member, (m.withheld?.restricted ?? 0) + (m.withheld?.reviewOverdue ?? 0) + (m.withheld?.notDisclosable ?? 0)])
        .filter(([, n]) => (n as number) > 0),
    );
    expect(withheld).toEqual(
      Object.fromEntries(Object.entries(ex.federation.withheld as Record<string, number>).map(([k, v]) => [code(k), v])),
    );
  });
});

describe('federated search for locations of concern', () => {
  it('by a point with a radius, and by type of concern', async () => {
    const near = { lat: 53.8175, lon: -3.0515, radiusMetres: 200 };
    const { federatedLocationsOfConcern: hit } = await investigator.request(FederatedLocationsOfConcernDocument, {
      near,
      concerns: ['CSE_HOTSPOT'],
    });
    expect(hit.locations.map((l) => l.location.id)).toEqual([ids.L1]);
    expect(hit.locations[0]!.distanceMetres).toBeGreaterThan(0);
    expect(hit.federation.completeness).toBe('COMPLETE');
    const { federatedLocationsOfConcern: other } = await investigator.request(FederatedLocationsOfConcernDocument, {
      near,
      concerns: ['COUNTY_LINES_ADDRESS'],
    });
    expect(other.locations).toEqual([]);
    const { federatedLocationsOfConcern: far } = await investigator.request(FederatedLocationsOfConcernDocument, {
      near: { lat: 53.45, lon: -2.22, radiusMetres: 1000 },
      concerns: null,
    });
    expect(far.locations).toEqual([]);
    const bad = await investigator
      .request(FederatedLocationsOfConcernDocument, { near: { lat: 95, lon: 0, radiusMetres: 10 } })
      .catch((e: unknown) => e);
    expect((bad as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });
});
