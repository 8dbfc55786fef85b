import { describe, expect, it } from 'vitest';

import type { EpisodeRecord } from '../episode/episode-model.js';
import { boundingBox, haversineMetres } from '../records/location.js';
import { destinations } from './destinations.js';
import type { FederatedEpisodeModel, HistoryRules } from './history-model.js';
import { reconcile } from './reconcile.js';
import { inWindow, returnInterviewOverdue, riskSummary } from './risk-summary.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const asOf = new Date('2026-11-20T12:00:00.000Z');
const rules: HistoryRules = {
  asOf,
  repeat: { count: 3, days: 90 },
  policeAreaOf: (c) => ({ LALANC: 'LANCS', LANCS: 'LANCS', GMP: 'GMP' })[c] ?? null,
};
const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;

/** An episode `daysAgo` before asOf, missing for `hours`; override any fact. */
function ep(
  owner: string,
  daysAgo: number,
  hours: number,
  over: Partial<EpisodeRecord['facts']> & {
    grade?: EpisodeRecord['assessment']['riskGrade'];
    indicators?: EpisodeRecord['assessment']['indicators'];
  } = {},
): FederatedEpisodeModel {
  const lastSeen = asOf.getTime() - daysAgo * DAY;
  const { grade, indicators, ...facts } = over;
  const record = {
    owner,
    id: `e${++n}`,
    facts: {
      status: 'CLOSED',
      reportedAt: iso(lastSeen + HOUR),
      lastSeenAt: iso(lastSeen),
      foundAt: iso(lastSeen + hours * HOUR),
      missingFrom: { kind: 'CHILDRENS_HOME', location: null },
      careStatus: 'LOOKED_AFTER',
      placingAuthority: 'LALANC',
      foundPlace: null,
      foundBy: 'POLICE',
      associates: [],
      returnInterview: null,
      ...facts,
    },
    assessment: { riskGrade: grade ?? 'MEDIUM', regrades: [], indicators: indicators ?? [] },
    grading: null,
  } as unknown as EpisodeRecord;
  return {
    member: owner,
    match: { subjectRef: 'S', strength: 'STRONG', matchedKinds: ['name_dob'], conflicts: [] },
    episode: { record, bytes: '', signature: '', state: 'ACTIVE' },
  };
}

describe('reconciling episodes into incidents', () => {
  it('joins episodes whose missing periods overlap, and touching ones, but not a gap of a minute', () => {
    const police = ep('GMP', 10, 5);
    const la = ep('LALANC', 10, 5, { lastSeenAt: iso(asOf.getTime() - 10 * DAY + 4 * HOUR) });
    const touching = ep('LANCS', 10, 5, {
      lastSeenAt: iso(asOf.getTime() - 10 * DAY + 5 * HOUR),
      foundAt: iso(asOf.getTime() - 10 * DAY + 6 * HOUR),
    });
    const apart = ep('LANCS', 10, 5, {
      lastSeenAt: iso(asOf.getTime() - 10 * DAY + 6 * HOUR + 60_000),
      foundAt: iso(asOf.getTime() - 10 * DAY + 7 * HOUR),
    });
    const incidents = reconcile([apart, la, police, touching], rules);
    expect(incidents.map((i) => i.sources.length).sort()).toEqual([1, 3]);
    expect(incidents.find((i) => i.sources.length === 3)!.owners).toEqual(['GMP', 'LALANC', 'LANCS']);
  });

  it('an open episode runs to asOf: a later closed one overlaps it, and the incident is open', () => {
    const open = ep('GMP', 5, 0, { status: 'OPEN', foundAt: null });
    const later = ep('LALANC', 1, 2);
    const [incident] = reconcile([open, later], rules);
    expect(incident).toMatchObject({ status: 'OPEN', foundAt: null });
    expect(incident!.sources).toHaveLength(2);
  });

  it('takes the highest grade and the union of indicators; out of area when any owner is outside the placing area', () => {
    const [i] = reconcile(
      [ep('GMP', 3, 4, { grade: 'LOW', indicators: ['CSE'] }), ep('LALANC', 3, 4, { grade: 'HIGH', indicators: ['ALCOHOL', 'CSE'] })],
      rules,
    );
    expect(i).toMatchObject({ riskGrade: 'HIGH', indicators: ['ALCOHOL', 'CSE'], outOfArea: true });
    const [inArea] = reconcile([ep('LANCS', 3, 4), ep('LALANC', 3, 4)], rules);
    expect(inArea!.outOfArea).toBe(false);
    const [unknownPlacing] = reconcile([ep('GMP', 3, 4, { placingAuthority: null })], rules);
    expect(unknownPlacing!.outOfArea).toBe(false);
  });
});

describe('risk windows and the repeat threshold', () => {
  it('counts an incident reported exactly N days before asOf, and not one a second earlier or in the future', () => {
    expect(inWindow(iso(asOf.getTime() - 30 * DAY), asOf, 30)).toBe(true);
    expect(inWindow(iso(asOf.getTime() - 30 * DAY - 1000), asOf, 30)).toBe(false);
    expect(inWindow(iso(asOf.getTime() + 1000), asOf, 30)).toBe(false);
  });

  it('the threshold is crossed at exactly 3 in 90 days, not at 2', () => {
    const at = (days: number) => ep('GMP', days, 1, { reportedAt: iso(asOf.getTime() - days * DAY) });
    const three = reconcile([at(1), at(45), at(90)], rules);
    expect(riskSummary(three, rules).repeatThreshold).toEqual({ count: 3, days: 90, incidents: 3, crossed: true });
    const two = reconcile([at(1), at(45), at(91)], rules);
    expect(riskSummary(two, rules).repeatThreshold).toEqual({ count: 3, days: 90, incidents: 2, crossed: false });
    expect(riskSummary(two, rules)).toMatchObject({ last30Days: 1, last90Days: 2, last365Days: 3 });
  });

  it('latest grade is the newest incident’s; empty history has none', () => {
    const s = riskSummary(reconcile([ep('GMP', 40, 2, { grade: 'HIGH' }), ep('GMP', 2, 2, { grade: 'LOW' })], rules), rules);
    expect(s).toMatchObject({ highestGrade: 'HIGH', latestGrade: 'LOW', forcesInvolved: ['GMP'] });
    expect(riskSummary([], rules)).toMatchObject({
      highestGrade: null,
      latestGrade: null,
      last365Days: 0,
      repeatThreshold: { crossed: false },
    });
  });
});

describe('return home interviews at 72 hours', () => {
  const found = asOf.getTime() - 10 * DAY;
  const closed = (offeredAfterHours: number | null) =>
    reconcile(
      [
        ep('GMP', 11, 0, {
          lastSeenAt: iso(found - DAY),
          foundAt: iso(found),
          returnInterview:
            offeredAfterHours === null
              ? null
              : { offered: true, offeredAt: iso(found + offeredAfterHours * HOUR), completedAt: null, notHeldReason: null, themes: [] },
        }),
      ],
      rules,
    )[0]!;

  it('offered at exactly 72 hours is in time; a minute later is overdue; none at all is overdue', () => {
    expect(returnInterviewOverdue(closed(72), asOf)).toBe(false);
    expect(returnInterviewOverdue(closed(72 + 1 / 60), asOf)).toBe(true);
    expect(returnInterviewOverdue(closed(null), asOf)).toBe(true);
  });

  it('is not overdue until 72 hours have passed since the child was found, nor while missing', () => {
    const recent = reconcile(
      [ep('GMP', 2, 0, { lastSeenAt: iso(asOf.getTime() - 3 * DAY), foundAt: iso(asOf.getTime() - 72 * HOUR) })],
      rules,
    )[0]!;
    expect(returnInterviewOverdue(recent, asOf)).toBe(false);
    const justPast = reconcile(
      [ep('GMP', 2, 0, { lastSeenAt: iso(asOf.getTime() - 4 * DAY), foundAt: iso(asOf.getTime() - 72 * HOUR - 1000) })],
      rules,
    )[0]!;
    expect(returnInterviewOverdue(justPast, asOf)).toBe(true);
    const open = reconcile([ep('GMP', 5, 0, { status: 'OPEN', foundAt: null })], rules)[0]!;
    expect(returnInterviewOverdue(open, asOf)).toBe(false);
  });
});

describe('previous destinations', () => {
  const found = (daysAgo: number, location: { uprn?: string; postcode?: string; lat?: number; lon?: number }) =>
    ep('GMP', daysAgo, 3, {
      foundPlace: {
        kind: 'OTHER',
        location: {
          uprn: location.uprn ?? null,
          postcode: location.postcode ?? null,
          lat: location.lat ?? null,
          lon: location.lon ?? null,
        },
      },
    });

  it('groups by UPRN, then postcode, then within 100 m, and ranks by the documented score', () => {
    const incidents = reconcile(
      [
        found(10, { uprn: '1', postcode: 'FY1 1AA' }),
        found(20, { uprn: '1' }),
        found(30, { postcode: 'fy11aa' }),
        found(40, { lat: 53.8, lon: -3.05 }),
        found(50, { lat: 53.8008, lon: -3.05 }), // about 89 m north: same place
        found(60, { lat: 53.802, lon: -3.05 }), // about 222 m: another place
      ],
      rules,
    );
    const d = destinations(incidents, asOf);
    expect(d.map((x) => x.timesFound)).toEqual([3, 2, 1]);
    expect(d[0]).toMatchObject({ uprn: '1', postcode: 'FY1 1AA' });
    // Each visit was found 3 hours after last seen: its age is daysAgo - 3/24 days.
    const expected = [10, 20, 30].reduce((sum, days) => sum + 2 ** (-(days - 3 / 24) / 180), 0);
    expect(d[0]!.score).toBeCloseTo(expected, 2);
  });

  it('a recent visit can outrank an older, more frequent place', () => {
    const d = destinations(reconcile([found(700, { uprn: 'old' }), found(720, { uprn: 'old' }), found(1, { uprn: 'new' })], rules), asOf);
    expect(d.map((x) => x.uprn)).toEqual(['new', 'old']);
  });

  it('one incident with two sources found at one place is one visit', () => {
    const a = found(5, { uprn: '9' });
    const b = found(5, { uprn: '9' });
    const d = destinations(reconcile([a, b], rules), asOf);
    expect(d).toHaveLength(1);
    expect(d[0]!.timesFound).toBe(1);
    expect(d[0]!.visits).toHaveLength(2);
  });
});

describe('geography', () => {
  it('haversine: one degree of latitude is about 111.2 km; the bounding box holds the circle', () => {
    expect(haversineMetres({ lat: 53, lon: -2 }, { lat: 54, lon: -2 })).toBeCloseTo(111_195, -2);
    const box = boundingBox({ lat: 53.8, lon: -3.05 }, 500);
    expect(haversineMetres({ lat: 53.8, lon: -3.05 }, { lat: box.maxLat, lon: -3.05 })).toBeGreaterThanOrEqual(499);
    expect(haversineMetres({ lat: 53.8, lon: -3.05 }, { lat: 53.8, lon: box.maxLon })).toBeGreaterThanOrEqual(499);
  });
});
