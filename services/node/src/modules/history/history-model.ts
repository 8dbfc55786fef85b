/**
 * The child's history, built from verified episodes: incidents reconciled from overlapping
 * episodes, the risk summary over strong matches, previous destinations and the geography
 * they need. Pure functions of their inputs and `asOf`, so every rule is unit-tested at its edges.
 */
import type { McxAssociateRole, McxRiskGrade, McxRiskIndicator } from '../../__generated__/resolvers-types.js';
import type { FederatedEpisodeModel, LocationNearModel, MemberResult } from '../../federation/federated-read.js';
import type { AssociatePointerRecord } from '../disclosure/disclose.js';
import type { EpisodeRecord, Place } from '../episode/episode-model.js';
import { offeredWithin72Hours } from '../episode/episode-spec.js';
import type { StoredRecord } from '../records/record-kind.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const GRADE_ORDER: McxRiskGrade[] = ['ABSENT', 'VERY_LOW', 'LOW', 'MEDIUM', 'HIGH'];

/** Overlapping episodes of one child: one incident, several sources. */
export interface Incident {
  sources: FederatedEpisodeModel[];
  status: 'OPEN' | 'CLOSED';
  reportedAt: string;
  lastSeenAt: string;
  foundAt: string | null;
  riskGrade: McxRiskGrade;
  indicators: McxRiskIndicator[];
  owners: string[];
  confirmWithOwnerBeforeActing: boolean;
  outOfArea: boolean;
}

/** A child's history as childHistory returns it (McxChildHistory): what HistoryService.childHistory builds. */
export interface ChildHistoryModel {
  asOf: string;
  openNow: Incident[];
  incidents: Incident[];
  possible: FederatedEpisodeModel[];
  riskSummary: ReturnType<typeof riskSummary>;
  previousDestinations: Destination[];
  associates: HistoryAssociate[];
  locationsOfConcern: LocationNearModel[];
  federation: { completeness: 'COMPLETE' | 'PARTIAL'; members: MemberResult[]; cuts: string[] };
}

/** How the history is computed: the clock, the repeat threshold and the reference data. */
export interface HistoryRules {
  asOf: Date;
  repeat: { count: number; days: number };
  /** The police area of a force or authority code (a force is its own area); null when unknown. */
  policeAreaOf(code: string): string | null;
}

/** True when the owner asked to be consulted before anyone acts on this episode. */
export function confirmWithOwner(e: EpisodeRecord): boolean {
  return e.grading?.conditions.includes('CONFIRM_WITH_OWNER') ?? false;
}

function maxGrade(grades: McxRiskGrade[]): McxRiskGrade {
  return grades.reduce((a, b) => (GRADE_ORDER.indexOf(b) > GRADE_ORDER.indexOf(a) ? b : a), 'ABSENT');
}

/** The missing period of an episode: from last seen to found, or to `asOf` while open. */
function period(e: EpisodeRecord, asOf: Date): [number, number] {
  const start = Date.parse(e.facts.lastSeenAt);
  const end = e.facts.status === 'OPEN' || !e.facts.foundAt ? asOf.getTime() : Date.parse(e.facts.foundAt);
  return [start, Math.max(start, end)];
}

/**
 * Reconciles episodes into incidents: episodes whose missing periods overlap (touching counts)
 * are one incident. Overlap is taken transitively within one child's strong matches, which is
 * safe because every episode here matched the same identity directly. Newest first.
 */
export function reconcile(episodes: readonly FederatedEpisodeModel[], rules: HistoryRules): Incident[] {
  const sorted = [...episodes].sort((a, b) => period(a.episode.record, rules.asOf)[0] - period(b.episode.record, rules.asOf)[0]);
  const groups: { sources: FederatedEpisodeModel[]; end: number }[] = [];
  for (const e of sorted) {
    const [start, end] = period(e.episode.record, rules.asOf);
    const last = groups[groups.length - 1];
    if (last && start <= last.end) {
      last.sources.push(e);
      last.end = Math.max(last.end, end);
    } else groups.push({ sources: [e], end });
  }
  return groups.map((g) => toIncident(g.sources, rules)).sort((a, b) => b.reportedAt.localeCompare(a.reportedAt));
}

function toIncident(sources: FederatedEpisodeModel[], rules: HistoryRules): Incident {
  const recs = sources.map((s) => s.episode.record);
  const open = recs.some((r) => r.facts.status === 'OPEN');
  const foundTimes = recs.map((r) => r.facts.foundAt).filter((f): f is string => !!f);
  const placing = recs.map((r) => r.facts.placingAuthority).find((p): p is string => !!p) ?? null;
  const placingArea = placing ? rules.policeAreaOf(placing) : null;
  return {
    sources: [...sources].sort((a, b) => a.episode.record.facts.reportedAt.localeCompare(b.episode.record.facts.reportedAt)),
    status: open ? 'OPEN' : 'CLOSED',
    reportedAt: recs.map((r) => r.facts.reportedAt).sort()[0]!,
    lastSeenAt: recs.map((r) => r.facts.lastSeenAt).sort()[0]!,
    foundAt: open || foundTimes.length === 0 ? null : foundTimes.sort()[foundTimes.length - 1]!,
    riskGrade: maxGrade(recs.map((r) => r.assessment.riskGrade)),
    indicators: [...new Set(recs.flatMap((r) => r.assessment.indicators))].sort(),
    owners: [...new Set(recs.map((r) => r.owner))].sort(),
    confirmWithOwnerBeforeActing: recs.some(confirmWithOwner),
    // Out of area: recorded by a force (or authority) outside the placing authority's police area.
    outOfArea: placingArea !== null && recs.some((r) => (rules.policeAreaOf(r.owner) ?? r.owner) !== placingArea),
  };
}

/** True when an incident reported at `reportedAt` falls within the last `days` days before `asOf` (the boundary counts). */
export function inWindow(reportedAt: string, asOf: Date, days: number): boolean {
  const age = asOf.getTime() - Date.parse(reportedAt);
  return age >= 0 && age <= days * DAY_MS;
}

/**
 * A closed incident whose return home interview is overdue: 72 hours have passed since it was
 * found, and no source records an interview offered within 72 hours (exactly 72 is in time).
 */
export function returnInterviewOverdue(incident: Incident, asOf: Date): boolean {
  if (incident.status !== 'CLOSED' || !incident.foundAt) return false;
  if (asOf.getTime() - Date.parse(incident.foundAt) <= 72 * HOUR_MS) return false;
  return !incident.sources.some((s) => {
    const f = s.episode.record.facts;
    return offeredWithin72Hours(f.foundAt, f.returnInterview?.offeredAt ?? null) === true;
  });
}

/** The risk summary over strong incidents (never possible matches). */
export function riskSummary(incidents: readonly Incident[], rules: HistoryRules) {
  const count = (days: number) => incidents.filter((i) => inWindow(i.reportedAt, rules.asOf, days)).length;
  const inRepeat = count(rules.repeat.days);
  const latest = [...incidents].sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))[0];
  return {
    last30Days: count(30),
    last90Days: count(90),
    last365Days: count(365),
    repeatThreshold: { count: rules.repeat.count, days: rules.repeat.days, incidents: inRepeat, crossed: inRepeat >= rules.repeat.count },
    highestGrade: incidents.length ? maxGrade(incidents.map((i) => i.riskGrade)) : null,
    latestGrade: latest?.riskGrade ?? null,
    indicators: [...new Set(incidents.flatMap((i) => i.indicators))].sort(),
    forcesInvolved: [...new Set(incidents.flatMap((i) => i.owners))].sort(),
    outOfAreaIncidents: incidents.filter((i) => i.outOfArea).length,
    overdueReturnInterviews: incidents.filter((i) => returnInterviewOverdue(i, rules.asOf)).length,
  };
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function haversineMetres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A box that contains every point within `metres` of `p` (the indexed prefilter before haversine). */
export function boundingBox(p: { lat: number; lon: number }, metres: number) {
  const dLat = metres / 111_320;
  const dLon = metres / (111_320 * Math.max(Math.cos((p.lat * Math.PI) / 180), 0.01));
  return { minLat: p.lat - dLat, maxLat: p.lat + dLat, minLon: p.lon - dLon, maxLon: p.lon + dLon };
}

/** A previous destination and the visits grouped into it. */
export interface Destination {
  uprn: string | null;
  postcode: string | null;
  lat: number | null;
  lon: number | null;
  placeKind: Place['kind'];
  visits: { owner: string; episodeId: string; foundAt: string }[];
  timesFound: number;
  lastFoundAt: string;
  score: number;
}

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

/** An associate in the history: its verified pointer, where it was seen, and its owner's link counts. */
export interface HistoryAssociate {
  pointer: StoredRecord<AssociatePointerRecord>;
  seenIn: { owner: string; episodeId: string; role: McxAssociateRole }[];
  otherChildrenLinked: number;
  forcesLinked: string[];
  linksComplete: boolean;
}

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
