/**
 * childHistory: what an investigator on a live search reads. One federated read of the child's
 * episodes (mcx.history/1), then one of the locations of concern near where the child was found
 * (mcx.locations/1); each is audited at both ends like every federated read.
 */
import { GraphQLError } from 'graphql';
import type { Context } from '../../context.js';
import type { McxHistoryAssociateResolvers, McxIncidentResolvers, McxIncidentSourceResolvers, McxLocationOfConcernNearResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { federatedHistory, federatedLocations, federatedPointers } from '../../federation/federated-resolvers.js';
import type { MemberResult } from '../../federation/federated-read.js';
import { confirmWithOwner, destinations, historyAssociates, reconcile, riskSummary } from './history-model.js';

/** Merges two federated reads' member rows: a member is only as good as its worse part. */
function mergeStatus(a: MemberResult[], b: MemberResult[]): MemberResult[] {
  const rank = (s: MemberResult['status']) => ['ANSWERED', 'TRUNCATED', 'BAD_DATA', 'REFUSED', 'NOT_OFFERED', 'CIRCUIT_OPEN', 'TIMED_OUT', 'UNAVAILABLE'].indexOf(s);
  return a.map((m) => {
    const other = b.find((x) => x.member === m.member);
    if (!other || rank(other.status) <= rank(m.status)) return { ...m, dropped: [...m.dropped, ...(other?.dropped ?? [])] };
    return { ...other, withheld: m.withheld, dropped: [...m.dropped, ...other.dropped], latencyMs: m.latencyMs + other.latencyMs };
  });
}

export const childHistory: NonNullable<QueryResolvers['childHistory']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('childHistory');
  const rules = ctx.services.history;
  const asOf = rules.now();
  const answer = await federatedHistory(ctx, read, 'childHistory', identity);
  const historyRules = { asOf, repeat: rules.repeat, policeAreaOf: rules.policeAreaOf };
  const strong = answer.episodes.filter((e) => e.match.strength === 'STRONG');
  const incidents = reconcile(strong, historyRules);
  const places = destinations(incidents, asOf);
  // Locations of concern near the previous destinations: a second federated read, by point.
  const points = places.filter((d) => d.lat !== null && d.lon !== null).slice(0, 20).map((d) => ({ lat: d.lat!, lon: d.lon!, radiusMetres: rules.nearMetres }));
  // Associates the child's episodes name whose owners' answers did not carry a pointer (the
  // owner holds no episode of this child): asked of their owners, beside the locations.
  const carried = new Set(answer.associates.map((a) => `${a.record.owner}/${a.record.id}`));
  const missing = new Map<string, string[]>();
  for (const link of incidents.flatMap((i) => i.sources.flatMap((s) => s.episode.record.facts.associates))) {
    if (carried.has(`${link.owner}/${link.associateId}`) || missing.get(link.owner)?.includes(link.associateId)) continue;
    missing.set(link.owner, [...(missing.get(link.owner) ?? []), link.associateId]);
  }
  const [near, extra] = await Promise.all([
    points.length > 0 ? federatedLocations(ctx, read, 'childHistory', points, null) : null,
    missing.size > 0 ? federatedPointers(ctx, read, 'childHistory', missing, answer.keys) : null,
  ]);
  let members = near ? mergeStatus(answer.members, near.members) : answer.members;
  if (extra) members = mergeStatus(members, extra.members);
  const links = new Map(answer.links);
  for (const l of extra?.links ?? []) links.set(`${l.owner}/${l.id}`, l);
  return {
    asOf: asOf.toISOString(),
    openNow: incidents.filter((i) => i.status === 'OPEN'),
    incidents,
    possible: answer.episodes.filter((e) => e.match.strength === 'POSSIBLE').sort((a, b) => b.episode.record.facts.reportedAt.localeCompare(a.episode.record.facts.reportedAt)),
    riskSummary: riskSummary(incidents, historyRules),
    previousDestinations: places,
    associates: historyAssociates([...answer.associates, ...(extra?.pointers ?? [])], incidents, links),
    locationsOfConcern: near?.locations ?? [],
    federation: { completeness: [answer, near, extra].every((r) => !r || r.completeness === 'COMPLETE') && members.every((m) => m.status === 'ANSWERED') ? 'COMPLETE' : 'PARTIAL', members },
  };
};

export const federatedLocationsOfConcern: NonNullable<QueryResolvers['federatedLocationsOfConcern']> = async (_, { near, concerns }, ctx) => {
  const read = await ctx.access.requireRead('federatedLocationsOfConcern');
  if (!(Math.abs(near.lat) <= 90 && Math.abs(near.lon) <= 180 && near.radiusMetres > 0 && near.radiusMetres <= 50_000)) {
    throw new GraphQLError('near must be a WGS84 point with a radius above 0 and up to 50 km', { extensions: { code: 'BAD_USER_INPUT', field: 'near' } });
  }
  const answer = await federatedLocations(ctx, read, 'federatedLocationsOfConcern', [near], concerns ?? null);
  return { locations: answer.locations, federation: { completeness: answer.completeness, members: answer.members } };
};

export const McxIncident: McxIncidentResolvers = {
  status: (i) => i.status,
  reportedAt: (i) => i.reportedAt,
  lastSeenAt: (i) => i.lastSeenAt,
  foundAt: (i) => i.foundAt,
  riskGrade: (i) => i.riskGrade,
  indicators: (i) => i.indicators,
  owners: (i) => i.owners,
  confirmWithOwnerBeforeActing: (i) => i.confirmWithOwnerBeforeActing,
  outOfArea: (i) => i.outOfArea,
  sources: (i) => i.sources,
};

export const McxIncidentSource: McxIncidentSourceResolvers = {
  owner: (s) => s.episode.record.owner,
  ownerReference: (s) => s.episode.record.ownerReference,
  contact: (s, _, ctx: Context) => ctx.services.disclosure.contactOf(s.episode.record.owner),
  confirmWithOwner: (s) => confirmWithOwner(s.episode.record),
  episode: (s) => s.episode,
};

export const McxHistoryAssociate: McxHistoryAssociateResolvers = {
  pointer: (a) => a.pointer,
  seenIn: (a) => a.seenIn,
  otherChildrenLinked: (a) => a.otherChildrenLinked,
  forcesLinked: (a) => a.forcesLinked,
  linksComplete: (a) => a.linksComplete,
};

export const McxLocationOfConcernNear: McxLocationOfConcernNearResolvers = {
  location: (n) => n.location,
  distanceMetres: (n) => n.distanceMetres,
};
