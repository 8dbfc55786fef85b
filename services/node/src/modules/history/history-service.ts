/**
 * childHistory: what an investigator on a live search reads. One federated read of the child's
 * episodes (mcx.history/1); then, side by side, the locations of concern near where the child was
 * found (mcx.locations/1) and the pointers asked of associates' owners (mcx.pointers/1). Each
 * read is audited at both ends like every federated read. They are one query with one deadline,
 * taken when it starts: the reads that wait for the episodes get what is left of it.
 */
import type { MemberResult } from '@mcx/federation';

import type { McxChildIdentityInput, McxConcern, McxNearInput } from '../../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { FederatedReadService } from '../../federation/federated-read-service.js';
import { destinations } from './destinations.js';
import { historyAssociates } from './history-associates.js';
import type { ChildHistoryModel, HistorySettings } from './history-model.js';
import { reconcile } from './reconcile.js';
import { riskSummary } from './risk-summary.js';

const OPERATION = 'childHistory';
/** The most points one mcx.locations/1 request carries (the peer operation's own limit). */
const MAX_NEAR_POINTS = 50;

/**
 * Merges two federated reads' member rows: a member is only as good as its worse part. A read
 * that did not need the member (NOT_HOLDING: the record locator found nothing of it there, e.g.
 * no place near the destinations) leaves the row as the other read made it; so a member first
 * not asked, then asked for a pointer or a place, shows what it did when asked.
 */
export function mergeStatus(a: MemberResult[], b: MemberResult[]): MemberResult[] {
  const rank = (s: MemberResult['status']) =>
    ['ANSWERED', 'NOT_HOLDING', 'TRUNCATED', 'BAD_DATA', 'REFUSED', 'NOT_OFFERED', 'CIRCUIT_OPEN', 'TIMED_OUT', 'UNAVAILABLE'].indexOf(s);
  return a.map((m) => {
    const other = b.find((x) => x.member === m.member);
    if (!other || other.status === 'NOT_HOLDING') return { ...m, dropped: [...m.dropped, ...(other?.dropped ?? [])] };
    // Its episodes were judged by its filter: the row keeps that filter's age and version.
    if (m.status === 'NOT_HOLDING')
      return {
        ...other,
        dropped: [...m.dropped, ...other.dropped],
        filterAgeMs: m.filterAgeMs ?? null,
        filterVersion: m.filterVersion ?? null,
      };
    // Both reads asked it: what each withheld adds up (a pointer its answer for the episodes withheld is never asked again).
    const withheld = addWithheld(m.withheld, other.withheld);
    if (rank(other.status) <= rank(m.status)) return { ...m, withheld, dropped: [...m.dropped, ...other.dropped] };
    return { ...other, withheld, dropped: [...m.dropped, ...other.dropped], latencyMs: m.latencyMs + other.latencyMs };
  });
}

/** Two reads' withheld counts of one member, added; null only when neither read has any (it did not answer). */
function addWithheld(a: MemberResult['withheld'], b: MemberResult['withheld']): MemberResult['withheld'] {
  if (!a || !b) return a ?? b;
  const faults =
    (a.integrityFault ?? null) === null && (b.integrityFault ?? null) === null ? null : (a.integrityFault ?? 0) + (b.integrityFault ?? 0);
  return {
    restricted: a.restricted + b.restricted,
    reviewOverdue: a.reviewOverdue + b.reviewOverdue,
    notDisclosable: a.notDisclosable + b.notDisclosable,
    integrityFault: faults,
  };
}

export interface HistoryServiceDeps {
  reads: FederatedReadService;
  rules: HistorySettings;
}

export class HistoryService {
  constructor(private readonly deps: HistoryServiceDeps) {}

  /** Locations of concern near a point, from every member: one audited federated read. */
  async locationsNear(read: AuthorisedRead, near: McxNearInput, concerns: readonly McxConcern[] | null) {
    const answer = await this.deps.reads.locations(read, 'federatedLocationsOfConcern', [near], concerns);
    return { locations: answer.locations, federation: { completeness: answer.completeness, members: answer.members, cuts: [] } };
  }

  /** A child's history for an investigator on a live search: three audited federated reads within one deadline, reconciled. */
  async childHistory(read: AuthorisedRead, identity: McxChildIdentityInput): Promise<ChildHistoryModel> {
    const { reads, rules } = this.deps;
    // One query, one deadline, from its start (NOT_FEDERATED before anything else).
    const query = reads.startQuery();
    const asOf = rules.now();
    const answer = await reads.history(read, OPERATION, identity, query);
    const historyRules = { asOf, repeat: rules.repeat, policeAreaOf: rules.policeAreaOf };
    const strong = answer.episodes.filter((e) => e.match.strength === 'STRONG');
    const incidents = reconcile(strong, historyRules);
    const places = destinations(incidents, asOf);
    // Locations of concern near the previous destinations: a second federated read, by point.
    const located = places.filter((d) => d.lat !== null && d.lon !== null);
    // Ranked by how often and how recently the child was found there; past the limit, the cut is said.
    const cuts = located.length > MAX_NEAR_POINTS ? [`LOCATIONS_NEAR_FIRST_${MAX_NEAR_POINTS}_DESTINATIONS`] : [];
    const points = located.slice(0, MAX_NEAR_POINTS).map((d) => ({ lat: d.lat!, lon: d.lon!, radiusMetres: rules.nearMetres }));
    // Associates the child's episodes name whose owners' answers did not carry a pointer (the
    // owner holds no episode of this child naming them): asked of their owners, beside the
    // locations. An owner already answered for the associates its own episodes name (a pointer it
    // withheld there, it withheld and counted): never asked for them again.
    const carried = new Set(answer.associates.map((a) => `${a.record.owner}/${a.record.id}`));
    for (const { episode } of answer.episodes)
      for (const a of episode.record.facts.associates) if (a.owner === episode.record.owner) carried.add(`${a.owner}/${a.associateId}`);
    const missing = new Map<string, string[]>();
    for (const link of incidents.flatMap((i) => i.sources.flatMap((s) => s.episode.record.facts.associates))) {
      if (carried.has(`${link.owner}/${link.associateId}`) || missing.get(link.owner)?.includes(link.associateId)) continue;
      missing.set(link.owner, [...(missing.get(link.owner) ?? []), link.associateId]);
    }
    // Both wait for the episodes, not for each other: side by side, in what is left of the deadline.
    const [near, extra] = await Promise.all([
      points.length > 0 ? reads.locations(read, OPERATION, points, null, query) : null,
      missing.size > 0 ? reads.pointers(read, OPERATION, missing, answer.keys, query) : null,
    ]);
    let members = near ? mergeStatus(answer.members, near.members) : answer.members;
    if (extra) members = mergeStatus(members, extra.members);
    const links = new Map(answer.links);
    for (const l of extra?.links ?? []) links.set(`${l.owner}/${l.id}`, l);
    const complete =
      [answer, near, extra].every((r) => !r || r.completeness === 'COMPLETE') &&
      members.every((m) => m.status === 'ANSWERED' || m.status === 'NOT_HOLDING') &&
      cuts.length === 0;
    return {
      asOf: asOf.toISOString(),
      openNow: incidents.filter((i) => i.status === 'OPEN'),
      incidents,
      possible: answer.episodes
        .filter((e) => e.match.strength === 'POSSIBLE')
        .sort((a, b) => b.episode.record.facts.reportedAt.localeCompare(a.episode.record.facts.reportedAt)),
      riskSummary: riskSummary(incidents, historyRules),
      previousDestinations: places,
      associates: historyAssociates([...answer.associates, ...(extra?.pointers ?? [])], incidents, answer.episodes, links),
      locationsOfConcern: near?.locations ?? [],
      federation: { completeness: complete ? 'COMPLETE' : 'PARTIAL', members, cuts },
    };
  }
}
