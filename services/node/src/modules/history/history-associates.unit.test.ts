import { describe, expect, it } from 'vitest';

import type { AssociateLinkCounts } from '@mcx/federation';

import type { AssociatePointerRecord } from '../associate/associate-model.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { StoredRecord } from '../records/record-kind.js';
import { historyAssociates } from './history-associates.js';
import type { FederatedEpisodeModel, Incident } from './history-model.js';

const ADULT = '6f1f5f0e-1d7a-4a51-9e51-6a3b1c0d2e11';
const pointer = { record: { owner: 'LANCS', id: ADULT }, bytes: '', signature: '' } as unknown as StoredRecord<AssociatePointerRecord>;
let n = 0;

/** An episode of the child at `owner`, of its subject `subjectRef` there, naming the adult or not. */
function ep(owner: string, subjectRef: string, names: boolean, strength: 'STRONG' | 'POSSIBLE' = 'STRONG'): FederatedEpisodeModel {
  const associates = names ? [{ owner: 'LANCS', associateId: ADULT, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }] : [];
  const record = { owner, id: `e${++n}`, subjectRef, facts: { associates } } as unknown as EpisodeRecord;
  return {
    member: owner,
    match: { subjectRef, strength, matchedKinds: ['name_dob'], conflicts: [] },
    episode: { record, bytes: '', signature: '' } as unknown as StoredRecord<EpisodeRecord>,
  };
}
const incidentOf = (eps: FederatedEpisodeModel[]) =>
  eps.filter((e) => e.match.strength === 'STRONG').map((e) => ({ sources: [e] }) as Incident);
const counts = (byForce: AssociateLinkCounts['byForce'], complete = true) =>
  new Map([[`LANCS/${ADULT}`, { owner: 'LANCS', id: ADULT, byForce, complete }]]);

describe("a history's associates, from the owner's stored link counts", () => {
  it('says there is no count (null, not 0) when the owner holds none', () => {
    const eps = [ep('LANCS', 'S1', true)];
    for (const links of [new Map(), counts([], false)]) {
      const [a] = historyAssociates([pointer], incidentOf(eps), eps, links);
      expect(a).toMatchObject({ otherChildrenLinked: null, forcesLinked: [], linksComplete: false, linkCountsAsOf: null });
      expect(a!.seenIn).toEqual([{ owner: 'LANCS', episodeId: eps[0]!.episode.record.id, role: 'FOUND_WITH' }]);
    }
  });

  it("takes the child itself out of each force's count: its subjects there whose episodes name the associate, strong or possible", () => {
    const eps = [
      ep('LANCS', 'S1', true),
      ep('LANCS', 'S1', true),
      ep('GMP', 'G1', true),
      ep('MERS', 'M1', false),
      ep('MERS', 'M2', true, 'POSSIBLE'),
    ];
    const links = counts([
      { force: 'GMP', children: 1, asOf: '2026-11-29T10:00:00.000Z' },
      { force: 'LANCS', children: 3, asOf: '2026-11-30T01:00:00.000Z' },
      { force: 'MERS', children: 2, asOf: '2026-11-29T09:30:00+00:00' },
    ]);
    const [a] = historyAssociates([pointer], incidentOf(eps), eps, links);
    // LANCS: 3 less the child's one subject there; GMP: only the child; MERS: 2 less the possible match naming it.
    expect(a).toMatchObject({ otherChildrenLinked: 3, forcesLinked: ['LANCS', 'MERS'], linksComplete: true });
    // The oldest count's time, whatever offset it came with.
    expect(a!.linkCountsAsOf).toBe('2026-11-29T09:30:00.000Z');
    // Sightings are the strong episodes only.
    expect(a!.seenIn.map((s) => s.owner)).toEqual(['LANCS', 'LANCS', 'GMP']);
  });

  it('never goes below 0 for a force, and keeps an incomplete count incomplete', () => {
    const eps = [ep('GMP', 'G1', true), ep('GMP', 'G2', true)];
    const [a] = historyAssociates(
      [pointer],
      incidentOf(eps),
      eps,
      counts([{ force: 'GMP', children: 1, asOf: '2026-11-29T10:00:00.000Z' }], false),
    );
    expect(a).toMatchObject({ otherChildrenLinked: 0, forcesLinked: [], linksComplete: false, linkCountsAsOf: '2026-11-29T10:00:00.000Z' });
  });
});
