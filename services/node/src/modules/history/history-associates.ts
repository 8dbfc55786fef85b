/** The associates of a child's history: verified pointers, where each was seen, and its owner's stored link counts. */
import type { AssociateLinkCounts } from '@mcx/federation';

import type { AssociatePointerRecord } from '../associate/associate-model.js';
import type { StoredRecord } from '../records/record-kind.js';
import type { FederatedEpisodeModel, HistoryAssociate, Incident } from './history-model.js';

/**
 * The subjects each member holds of this child whose episodes (strong or possible, as the members
 * answered) name the associate: the owner's counts include them, and "other children" do not.
 */
function childAt(episodes: readonly FederatedEpisodeModel[], key: string): Map<string, Set<string>> {
  const at = new Map<string, Set<string>>();
  for (const { episode } of episodes) {
    const e = episode.record;
    if (!e.facts.associates.some((a) => `${a.owner}/${a.associateId}` === key)) continue;
    at.set(e.owner, (at.get(e.owner) ?? new Set()).add(e.subjectRef));
  }
  return at;
}

/**
 * Pointers with their sightings in the child's strong episodes and the owners' link counts as
 * they stored them (with the oldest count's time). With no stored count, the history says so
 * (null), never 0.
 */
export function historyAssociates(
  pointers: readonly StoredRecord<AssociatePointerRecord>[],
  incidents: readonly Incident[],
  answered: readonly FederatedEpisodeModel[],
  links: ReadonlyMap<string, AssociateLinkCounts>,
): HistoryAssociate[] {
  const strong = incidents.flatMap((i) => i.sources.map((s) => s.episode.record));
  return pointers.map((p) => {
    const key = `${p.record.owner}/${p.record.id}`;
    const seenIn = strong.flatMap((e) =>
      e.facts.associates
        .filter((a) => `${a.owner}/${a.associateId}` === key)
        .map((a) => ({ owner: e.owner, episodeId: e.id, role: a.role })),
    );
    const counted = links.get(key);
    if (!counted || counted.byForce.length === 0)
      return { pointer: p, seenIn, otherChildrenLinked: null, forcesLinked: [], linksComplete: false, linkCountsAsOf: null };
    const self = childAt(answered, key);
    const others = counted.byForce.map((f) => ({ force: f.force, children: Math.max(0, f.children - (self.get(f.force)?.size ?? 0)) }));
    return {
      pointer: p,
      seenIn,
      otherChildrenLinked: others.reduce((n, f) => n + f.children, 0),
      forcesLinked: others
        .filter((f) => f.children > 0)
        .map((f) => f.force)
        .sort(),
      linksComplete: counted.complete,
      linkCountsAsOf: counted.byForce.map((f) => new Date(f.asOf).toISOString()).sort()[0]!,
    };
  });
}
