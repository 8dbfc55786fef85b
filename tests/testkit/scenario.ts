/**
 * The shared federation scenario (tests/fixtures/federation-scenario.json): its shape as a zod
 * schema, so a test reading `expected` is checked against what the fixture holds, and its loading
 * into real nodes through the public mutations. Member codes are mapped to the reference data's
 * (LAN is LANCS, MER is MERS, LCC is LALANC).
 */
import { readFileSync } from 'node:fs';

import { expect } from 'vitest';
import { z } from 'zod';

import { PublishSubjectDocument, type MissingEpisodeInput } from '@mcx/client';

import { publishEpisode } from './episodes.js';
import type { TestNode } from './node.js';
import { associateInput, locationInput, publishAssociate, publishLocation, retractRecord } from './records.js';

const Child = z.object({ forename: z.string(), surname: z.string(), dob: z.string(), sex: z.enum(['F', 'M']) });
const Place = z.object({
  uprn: z.string().optional(),
  postcode: z.string().optional(),
  lat: z.number().optional(),
  lon: z.number().optional(),
  kind: z.string(),
});
const Risk = z.enum(['VERY_LOW', 'LOW', 'MEDIUM', 'HIGH']);
const Episode = z.object({
  ref: z.string(),
  owner: z.string(),
  identity: Child,
  status: z.literal('OPEN').optional(),
  reportedAt: z.string(),
  lastSeenAt: z.string(),
  foundAt: z.string().optional(),
  missingFrom: Place,
  foundAt_place: Place.optional(),
  risk: Risk,
  indicators: z.array(z.string()),
  associates: z.array(z.object({ ref: z.string(), role: z.string() })).optional(),
  rhi: z.object({ offered: z.boolean(), within72h: z.boolean().optional(), completed: z.boolean().optional() }).optional(),
  confirmWithOwnerBeforeActing: z.boolean().optional(),
  retracted: z.boolean().optional(),
  reviewAt: z.string().optional(),
  note: z.string().optional(),
});
const Expected = z.object({
  openNow: z.object({ incidents: z.number(), sources: z.array(z.string()), confirmWithOwnerBeforeActing: z.boolean() }),
  strongIncidents: z.array(z.string()),
  possibleMatches: z.array(z.string()),
  notShown: z.array(z.string()),
  riskSummary: z.object({
    last30Days: z.number(),
    last90Days: z.number(),
    last365Days: z.number(),
    repeatThreshold: z.object({ count: z.number(), days: z.number(), crossed: z.boolean() }),
    highestGrade: Risk,
    latestGrade: Risk,
    indicators: z.array(z.string()),
    forcesInvolved: z.array(z.string()),
    outOfAreaIncidents: z.number(),
    overdueReturnInterviews: z.number(),
  }),
  previousDestinations: z.array(z.object({ place: z.string(), timesFound: z.number(), episodes: z.array(z.string()) })),
  associates: z.array(
    z.object({
      ref: z.string(),
      as: z.string(),
      seenIn: z.array(z.string()),
      otherChildrenLinked: z.number(),
      forcesLinked: z.array(z.string()),
    }),
  ),
  locationsOfConcernNearDestinations: z.array(z.string()),
  federation: z.object({
    completeness: z.enum(['COMPLETE', 'PARTIAL']),
    withheld: z.record(z.string(), z.number()),
    statuses: z.record(z.string(), z.string()),
  }),
  definitions: z.record(z.string(), z.string()),
});

export const Scenario = z.object({
  about: z.string(),
  asOf: z.string(),
  members: z.array(z.object({ code: z.string(), kind: z.enum(['POLICE_FORCE', 'LOCAL_AUTHORITY']), name: z.string() })),
  child: Child,
  childCare: z.object({ placingAuthority: z.string() }),
  associates: z.array(
    z.object({
      ref: z.string(),
      owner: z.string(),
      identity: z.record(z.string(), z.string()),
      flags: z.array(z.string()),
      handling: z.string(),
      alsoLinkedTo: z.array(z.object({ owner: z.string(), child: Child })),
    }),
  ),
  locationsOfConcern: z.array(
    z.object({ ref: z.string(), owner: z.string(), place: Place, concerns: z.array(z.string()), active: z.boolean() }),
  ),
  episodes: z.array(Episode),
  expected: Expected,
});
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioChild = z.infer<typeof Child>;
type ScenarioEpisode = z.infer<typeof Episode>;
type ScenarioPlace = z.infer<typeof Place>;

/** The scenario fixture, checked against the schema. */
export function loadScenario(url = new URL('../fixtures/federation-scenario.json', import.meta.url)): Scenario {
  return Scenario.parse(JSON.parse(readFileSync(url, 'utf8')));
}

const CODE: Record<string, string> = { LAN: 'LANCS', GMP: 'GMP', MER: 'MERS', LCC: 'LALANC' };
/** A scenario member code as the reference data has it. */
export const memberCode = (c: string) => CODE[c] ?? c;
const SEX = { F: 'FEMALE', M: 'MALE' } as const;
const HOUR = 3_600_000;

/** A scenario child as a childHistory or publishSubject identity. */
export const identity = (c: ScenarioChild) => ({ forename: c.forename, surname: c.surname, dob: c.dob, sex: SEX[c.sex] });
const subjectRef = (c: { forename: string; surname: string }) => `SUBJ-${c.forename}-${c.surname}`.toUpperCase();

/** Scenario place kinds our episodes do not have (a residential address, a transport hub) are OTHER. */
function place(p: ScenarioPlace) {
  const kind = ['HOME', 'FOSTER', 'CHILDRENS_HOME', 'SEMI_INDEPENDENT', 'SCHOOL'].includes(p.kind) ? p.kind : 'OTHER';
  return {
    kind: kind as 'OTHER',
    location: { uprn: p.uprn ?? null, postcode: p.postcode ?? null, lat: p.lat ?? null, lon: p.lon ?? null },
  };
}

/** Record ids by scenario ref (E1, AS1, L1 ...). */
export type ScenarioIds = Record<string, string>;

export interface SeedOptions {
  /** Sets the nodes' clock: a date to publish as of, or null for back to the scenario's asOf. */
  setClock(at: Date | null): void;
}

/**
 * Loads the scenario into its members' nodes (keyed by reference-data code) through the public
 * mutations: the child at every member, the other children its associates are linked to, the
 * associates, the locations of concern, and the episodes (retracted ones then retracted).
 */
export async function seedScenario(nodes: Record<string, TestNode>, scenario: Scenario, opts: SeedOptions): Promise<ScenarioIds> {
  const asOf = new Date(scenario.asOf);
  const ids: ScenarioIds = {};
  const node = (owner: string) => {
    const n = nodes[memberCode(owner)];
    if (!n) throw new Error(`no node for scenario member ${owner}`);
    return n;
  };
  async function subject(owner: string, child: ScenarioChild) {
    const reviewAt = new Date(asOf.getTime() + 365 * 24 * HOUR).toISOString().slice(0, 10);
    const { publishSubject: r } = await node(owner).client.request(PublishSubjectDocument, {
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
      ownerReference: `${memberCode(e.owner)}-${e.ref}`,
      subjectRef: subjectRef(e.identity),
      ...(e.reviewAt ? { reviewAt: e.reviewAt.slice(0, 10) } : {}),
      status: e.status ?? 'CLOSED',
      reportedAt: e.reportedAt,
      lastSeenAt: e.lastSeenAt,
      foundAt: e.foundAt ?? null,
      missingFrom: place(e.missingFrom),
      careStatus: 'LOOKED_AFTER',
      placingAuthority: memberCode(scenario.childCare.placingAuthority),
      foundPlace: e.foundAt_place ? place(e.foundAt_place) : null,
      foundBy: e.foundAt ? 'POLICE' : null,
      assessment: { riskGrade: e.risk, indicators: e.indicators as never, regrades: [] },
      associates: (e.associates ?? []).map((a) => ({
        owner: memberCode(scenario.associates.find((s) => s.ref === a.ref)!.owner),
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

  // Children: the child at every member, the surname changed in care at MER, and the other children AS1 is linked to.
  for (const m of scenario.members) await subject(m.code, scenario.child);
  for (const e of scenario.episodes.filter((x) => x.identity.surname !== scenario.child.surname)) await subject(e.owner, e.identity);
  // Associates: each at its owner; each other child's owner holds its own record of the same person.
  for (const a of scenario.associates) {
    const input = associateInput(
      {
        ownerReference: `${memberCode(a.owner)}-${a.ref}`,
        identity: a.identity,
        flags: a.flags as never,
        grading: { scheme: '3x5x2', source: '2', intelligence: 'B', handling: a.handling, conditions: [] },
      },
      asOf,
    );
    const { associate, errors } = await publishAssociate(node(a.owner).client, input);
    expect(errors).toEqual([]);
    ids[a.ref] = associate!.id;
    for (const [n, link] of a.alsoLinkedTo.entries()) {
      const owner = memberCode(link.owner);
      await subject(link.owner, link.child);
      let associateId = ids[a.ref]!;
      if (owner !== memberCode(a.owner)) {
        const theirs = await publishAssociate(
          node(link.owner).client,
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
      const { errors: e } = await publishEpisode(node(link.owner).client, {
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
      node(l.owner).client,
      locationInput(
        {
          ownerReference: `${memberCode(l.owner)}-${l.ref}`,
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
    if (e.reviewAt) opts.setClock(new Date(Date.parse(e.reportedAt) + 24 * HOUR));
    const { episode, errors } = await publishEpisode(node(e.owner).client, episodeInput(e));
    opts.setClock(null);
    expect(errors, e.ref).toEqual([]);
    ids[e.ref] = episode!.id;
    if (e.retracted) expect((await retractRecord(node(e.owner).client, 'EPISODE', episode!.id, 2)).errors).toEqual([]);
  }
  return ids;
}
