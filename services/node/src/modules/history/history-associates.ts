/** The associates of a child's history: verified pointers, where each was seen, and its owner's link counts. */
import type { AssociatePointerRecord } from '../associate/associate-model.js';
import type { StoredRecord } from '../records/record-kind.js';
import type { HistoryAssociate, Incident } from './history-model.js';

/** Pointers with their sightings in the child's strong episodes and the owners' link counts. */
export function historyAssociates(
  pointers: readonly StoredRecord<AssociatePointerRecord>[],
  incidents: readonly Incident[],
  links: ReadonlyMap<string, { byForce: { force: string; children: number }[]; complete: boolean }>,
): HistoryAssociate[] {
  const episodes = incidents.flatMap((i) => i.sources.map((s) => s.episode.record));
  return pointers.map((p) => {
    const key = `${p.record.owner}/${p.record.id}`;
    const seenIn = episodes.flatMap((e) =>
      e.facts.associates
        .filter((a) => `${a.owner}/${a.associateId}` === key)
        .map((a) => ({ owner: e.owner, episodeId: e.id, role: a.role })),
    );
    const counted = links.get(key);
    const byForce = counted?.byForce.filter((f) => f.children > 0) ?? [];
    return {
      pointer: p,
      seenIn,
      otherChildrenLinked: byForce.reduce((n, f) => n + f.children, 0),
      forcesLinked: byForce.map((f) => f.force).sort(),
      linksComplete: counted?.complete ?? false,
    };
  });
}
