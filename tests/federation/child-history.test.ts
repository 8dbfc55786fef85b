/**
 * The child's history on the shared scenario (tests/fixtures/federation-scenario.json): its
 * four members run as real nodes, everything is loaded through the public mutations, and
 * childHistory must give every item under `expected`, as of `asOf`. The fixture's schema, its
 * member codes and its loading are in tests/testkit/scenario.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChildHistoryDocument, FederatedLocationsOfConcernDocument, type McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { startFederation } from '../testkit/federation.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { readHeaders, type TestNode } from '../testkit/node.js';
import { memberCode as code, identity, loadScenario, seedScenario, type ScenarioIds } from '../testkit/scenario.js';

const scenario = loadScenario();
const asOf = new Date(scenario.asOf);
let clock = asOf;

let nodes: Record<string, TestNode>;
let close: () => Promise<void>;
let ids: ScenarioIds = {};
const refOf = (owner: string, id: string) => Object.keys(ids).find((k) => ids[k] === id && k.startsWith('E')) ?? `${owner}/${id}`;
let investigator: McxClient;
let history: Awaited<ReturnType<typeof ask>>;

function ask() {
  return investigator.request(ChildHistoryDocument, { identity: identity(scenario.child) }).then((r) => r.childHistory);
}

beforeAll(async () => {
  const members = scenario.members.map((m) => code(m.code));
  ({ nodes, close } = await startFederation(members, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: Object.fromEntries(scenario.members.map((m) => [code(m.code), m.kind === 'LOCAL_AUTHORITY' ? 'local_authority' : 'police'])),
    node: () => ({ now: () => clock }),
  }));
  ids = await seedScenario(nodes, scenario, { setClock: (at) => (clock = at ?? asOf) });
  // The owners keep their associates' link counts in the background: told that something changed,
  // they count now (as of the scenario's clock), so the history reads the seeded links.
  await Promise.all(Object.values(nodes).map((n) => n.node.app.services.linkCounts.changed()));
  investigator = await nodes.LANCS!.as({ roles: ['investigator'], headers: readHeaders('LANCS') });
  history = await ask();
}, 180_000);

afterAll(() => close?.());

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
    expect(history.incidents.map(incidentRefs).sort()).toEqual(ex.strongIncidents.map((r) => r.split('+').sort().join('+')).sort());
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
    ).toEqual(ex.previousDestinations.map((d) => ({ timesFound: d.timesFound, episodes: d.episodes })));
    expect(history.previousDestinations[0]).toMatchObject({ uprn: '100010000001' });
    expect(history.previousDestinations[1]).toMatchObject({ uprn: null, postcode: 'L1 1JD' });
    expect(history.previousDestinations[0]!.score).toBeGreaterThan(history.previousDestinations[1]!.score);
  });

  it('gives associates as pointers with cross-force link counts, never a name', () => {
    const a = ex.associates[0]!;
    expect(history.associates).toHaveLength(1);
    const got = history.associates[0]!;
    expect(got.pointer).toMatchObject({ owner: code('LAN'), id: ids.AS1, kind: 'ADULT_OF_CONCERN', flags: ['ADULT_OF_CONCERN'] });
    expect(got.seenIn.map((s) => refOf(s.owner, s.episodeId)).sort()).toEqual(a.seenIn);
    expect(got.otherChildrenLinked).toBe(a.otherChildrenLinked);
    expect(got.forcesLinked).toEqual(a.forcesLinked.map(code).sort());
    expect(got.linksComplete).toBe(true);
    // The counts are the owner's stored ones, and the history says how old they are.
    expect(got.linkCountsAsOf).toBe(asOf.toISOString());
    expect(JSON.stringify(history)).not.toMatch(/Darren|Cole|Amy|Hill|Kyle|Dean|Jade|Thomas|Walker|447700900123/);
  });

  it('finds the locations of concern near previous destinations', () => {
    expect(history.locationsOfConcern.map((l) => l.location.id)).toEqual(ex.locationsOfConcernNearDestinations.map((r) => ids[r]));
    expect(history.locationsOfConcern[0]!.distanceMetres).toBe(0);
  });

  it('says every member answered, and what each withheld', () => {
    expect(history.federation.completeness).toBe(ex.federation.completeness);
    const statuses = Object.fromEntries(history.federation.members.map((m) => [m.member, m.status]));
    expect(statuses).toEqual(Object.fromEntries(Object.entries(ex.federation.statuses).map(([k, v]) => [code(k), v])));
    const withheld = Object.fromEntries(
      history.federation.members
        .map((m) => [m.member, (m.withheld?.restricted ?? 0) + (m.withheld?.reviewOverdue ?? 0) + (m.withheld?.notDisclosable ?? 0)])
        .filter(([, n]) => (n as number) > 0),
    );
    expect(withheld).toEqual(Object.fromEntries(Object.entries(ex.federation.withheld).map(([k, v]) => [code(k), v])));
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
    await expectGraphQLError(
      investigator.request(FederatedLocationsOfConcernDocument, { near: { lat: 95, lon: 0, radiusMetres: 10 } }),
      'BAD_USER_INPUT',
    );
  });
});
