import { describe, expect, it } from 'vitest';

import { filterItem, geoCell, MembershipFilter, type MemberResult } from '@mcx/federation';

import { mergeStatus } from '../modules/history/history-service.js';
import { cellsNear, selectMembers, type HeldFilter } from './member-selection.js';

const NEAR = { lat: 53.8175, lon: -3.051, radiusMetres: 500 };
const held = (items: string[], geo: boolean, confirmedAt = 1_000): HeldFilter => ({
  filter: MembershipFilter.build(items),
  version: 1,
  digest: 'd',
  geo,
  vouchedAt: confirmedAt,
  confirmedAt,
});

describe('choosing the members to ask for locations near a point', () => {
  const filters: Record<string, HeldFilter> = {
    // A location 100 m away, another 70 km away, none, and an older filter that holds no cells.
    HERE: held([filterItem(geoCell(NEAR.lat + 0.001, NEAR.lon))], true),
    FAR: held([filterItem(geoCell(53.4808, -2.2426))], true),
    NONE: held([], true),
    OLD: held([], false),
    STALE: held([], true, -10_000),
  };
  const view = { filterOf: (m: string) => filters[m], maxAgeMs: 3000, now: () => 2_000 };
  const members = [...Object.keys(filters), 'NO_FILTER'];

  it('skips only members whose fresh filter holds cells and none the point touches', () => {
    const selection = selectMembers(view, members, cellsNear([NEAR])!.map(filterItem), true);
    expect(members.filter((m) => selection.ask(m))).toEqual(['HERE', 'OLD', 'STALE', 'NO_FILTER']);
    expect(selection.notHolding.map((r) => r.member)).toEqual(['FAR', 'NONE']);
  });

  it('for a child, a filter without cells still rules a member out (its linkage keys are there)', () => {
    const selection = selectMembers(view, members, ['some-version\nsome-key'], false);
    expect(selection.notHolding.map((r) => r.member).sort()).toEqual(['FAR', 'HERE', 'NONE', 'OLD']);
  });

  it('has no cells for a search too wide for them, so every member is asked', () => {
    expect(cellsNear([{ ...NEAR, radiusMetres: 400_000 }])).toBeNull();
    expect(cellsNear([NEAR])!.length).toBeGreaterThan(0);
  });
});

describe("a history's member rows, merged over its reads", () => {
  const row = (member: string, status: MemberResult['status']): MemberResult => ({
    member,
    status,
    reason: null,
    latencyMs: 5,
    withheld: null,
    dropped: [],
  });
  it('a member that answered the history and was not needed for places stays ANSWERED; a failure in any read shows', () => {
    const history = [row('GMP', 'ANSWERED'), row('MPS', 'NOT_HOLDING'), row('WYP', 'ANSWERED')];
    const places = [row('GMP', 'NOT_HOLDING'), row('MPS', 'NOT_HOLDING'), row('WYP', 'TIMED_OUT')];
    expect(mergeStatus(history, places).map((m) => `${m.member}:${m.status}`)).toEqual([
      'GMP:ANSWERED',
      'MPS:NOT_HOLDING',
      'WYP:TIMED_OUT',
    ]);
  });
  it("a member asked by both reads shows what both withheld, added, whichever read's status shows", () => {
    const counts = (restricted: number, integrityFault: number | null = null) => ({
      restricted,
      reviewOverdue: 0,
      notDisclosable: 1,
      integrityFault,
    });
    const history = [
      { ...row('GMP', 'ANSWERED'), withheld: counts(1) },
      { ...row('WYP', 'ANSWERED'), withheld: counts(0, 2) },
    ];
    const places = [
      { ...row('GMP', 'ANSWERED'), withheld: counts(2) },
      { ...row('WYP', 'TIMED_OUT'), withheld: null },
    ];
    const merged = mergeStatus(history, places);
    expect(merged.map((m) => [m.member, m.status, m.withheld])).toEqual([
      ['GMP', 'ANSWERED', { restricted: 3, reviewOverdue: 0, notDisclosable: 2, integrityFault: null }],
      ['WYP', 'TIMED_OUT', { restricted: 0, reviewOverdue: 0, notDisclosable: 1, integrityFault: 2 }],
    ]);
  });
  it('a member not asked for the history (it holds no episode) but asked for a pointer shows what it did then', () => {
    const history = [{ ...row('LANCS', 'NOT_HOLDING'), filterAgeMs: 1200, filterVersion: 7 }, row('MERS', 'NOT_HOLDING')];
    const pointers = [
      { ...row('LANCS', 'ANSWERED'), withheld: { restricted: 1, reviewOverdue: 0, notDisclosable: 0 } },
      row('MERS', 'TIMED_OUT'),
    ];
    const merged = mergeStatus(history, pointers);
    expect(merged.map((m) => `${m.member}:${m.status}`)).toEqual(['LANCS:ANSWERED', 'MERS:TIMED_OUT']);
    expect(merged[0]!.withheld).toEqual({ restricted: 1, reviewOverdue: 0, notDisclosable: 0 });
    // Its episodes were ruled out by its filter: the row still says how old that filter was.
    expect(merged[0]).toMatchObject({ filterAgeMs: 1200, filterVersion: 7 });
    // And the other way round: asked first, not needed after.
    expect(mergeStatus(pointers, history).map((m) => `${m.member}:${m.status}`)).toEqual(['LANCS:ANSWERED', 'MERS:TIMED_OUT']);
  });
});
