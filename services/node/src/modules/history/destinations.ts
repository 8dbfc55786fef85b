/** Previous destinations: where a child was found, grouped by place and ranked by how often and how recently. */
import { haversineMetres } from '../records/location.js';
import type { Destination, Incident } from './history-model.js';

const DAY_MS = 86_400_000;

/** Metres within which two points without UPRN or postcode in common are one destination. */
export const SAME_PLACE_METRES = 100;
/** The half-life of a visit's weight in the destination score, in days. */
export const VISIT_HALF_LIFE_DAYS = 180;

const compactPostcode = (p: string) => p.replace(/\s+/g, '').toUpperCase();

/**
 * Previous destinations: where the child was found, one visit per incident and place, grouped
 * by UPRN, then postcode, then within 100 m. Score = sum over visits of 2^(-age in days / 180);
 * ranked by score, then by the latest visit.
 */
export function destinations(incidents: readonly Incident[], asOf: Date): Destination[] {
  const groups: Destination[] = [];
  for (const incident of incidents) {
    const seen = new Set<Destination>();
    for (const s of incident.sources) {
      const f = s.episode.record.facts;
      const loc = f.foundPlace?.location;
      if (!f.foundPlace || !loc || !f.foundAt) continue;
      const group =
        (loc.uprn ? groups.find((g) => g.uprn === loc.uprn) : undefined) ??
        (loc.postcode
          ? groups.find((g) => g.postcode !== null && compactPostcode(g.postcode) === compactPostcode(loc.postcode!))
          : undefined) ??
        (loc.lat !== null && loc.lon !== null
          ? groups.find(
              (g) =>
                g.lat !== null &&
                g.lon !== null &&
                haversineMetres({ lat: g.lat, lon: g.lon }, { lat: loc.lat!, lon: loc.lon! }) <= SAME_PLACE_METRES,
            )
          : undefined);
      const target = group ?? {
        uprn: loc.uprn,
        postcode: loc.postcode,
        lat: loc.lat,
        lon: loc.lon,
        placeKind: f.foundPlace.kind,
        visits: [],
        timesFound: 0,
        lastFoundAt: f.foundAt,
        score: 0,
      };
      if (!group) groups.push(target);
      // Fill in what the first visit lacked (a later source may know the UPRN or the point).
      target.uprn ??= loc.uprn;
      target.postcode ??= loc.postcode;
      if (target.lat === null && loc.lat !== null) {
        target.lat = loc.lat;
        target.lon = loc.lon;
      }
      target.visits.push({ owner: s.episode.record.owner, episodeId: s.episode.record.id, foundAt: f.foundAt });
      // One incident found at one place is one visit, however many sources recorded it.
      if (!seen.has(target)) {
        seen.add(target);
        target.timesFound += 1;
        target.score += 2 ** (-Math.max(0, asOf.getTime() - Date.parse(f.foundAt)) / DAY_MS / VISIT_HALF_LIFE_DAYS);
        if (f.foundAt > target.lastFoundAt) target.lastFoundAt = f.foundAt;
      }
    }
  }
  return groups
    .sort((a, b) => b.score - a.score || b.lastFoundAt.localeCompare(a.lastFoundAt))
    .map((g) => ({ ...g, score: Math.round(g.score * 1000) / 1000 }));
}
