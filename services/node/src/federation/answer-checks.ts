/**
 * What a member's answer to each operation may hold, checked before anything in it is used: the
 * answer parses against the operation's wire schema (else the member is BAD_DATA,
 * MALFORMED_ANSWER), each record verifies on its own, and only what was asked for is kept. A
 * record that fails is dropped and reported, and the rest of the answer still counts.
 */
import {
  DropReason,
  LinkCountWire,
  MemberReason,
  PeerHistoryAnswer,
  PeerLinksAnswer,
  PeerLocationsAnswer,
  PeerPointersAnswer,
  type AssociateLinkCounts,
  type DroppedRecord,
  type LinkCount,
  type MemberResult,
  type PeerMatch,
  type SignedRecordWire,
} from '@mcx/federation';

import type { McxMatchStrength } from '../__generated__/resolvers-types.js';
import type { AssociatePointerRecord } from '../modules/associate/associate-model.js';
import { EPISODE_SCHEMA, type EpisodeRecord } from '../modules/episode/episode-model.js';
import type { FederatedEpisodeModel, LocationNearModel } from '../modules/history/history-model.js';
import { LOCATION_SCHEMA, type LocationRecord } from '../modules/location-of-concern/location-model.js';
import { haversineMetres } from '../modules/records/location.js';
import type { StoredRecord } from '../modules/records/record-kind.js';
import type { Received, ReceivedSchema } from '../modules/records/record-schemas.js';

const POINTER_SCHEMA = 'mcx.associate-pointer/1';

// The wire's match strengths are the GraphQL schema's (McxMatchStrength): a compile error here if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const matchStrengthsAgree: Same<PeerMatch['strength'], McxMatchStrength> = true;
void matchStrengthsAgree;

/** What one member's checked answer gives: its value and what was dropped, or why the whole answer is bad. */
export type CheckedAnswer<T> = { value: T; dropped: DroppedRecord[]; withheld: MemberResult['withheld'] } | { bad: MemberReason };

/** The records of one member's answer as they are checked: duplicates are found and drops collected across it. */
export interface AnswerRecords {
  member: string;
  seen: Set<string>;
  dropped: DroppedRecord[];
}

/** A record that verified, parsed against the schema it names, with the wire form it came in. */
export type VerifiedRecord = Received & { wire: SignedRecordWire };

/** Verifies one record of an answer (FederationClient.verifyRecord); null when it was dropped. */
export type VerifyRecord = (records: AnswerRecords, wire: unknown, accept: readonly ReceivedSchema[]) => VerifiedRecord | null;

/** A point and radius (metres). */
export interface Near {
  lat: number;
  lon: number;
  radiusMetres: number;
}

const stored = <R>(record: R, wire: SignedRecordWire): StoredRecord<R> => ({
  record,
  bytes: wire.bytes,
  signature: wire.signature,
  state: 'ACTIVE',
});

const notRequested = (records: AnswerRecords, owner: string, id: string) =>
  records.dropped.push({ owner, id, reason: DropReason.NOT_REQUESTED });

/** mcx.history/1: episodes of the subjects the member matched, the pointers they name, and the member's own link counts. */
export function checkHistory(
  member: string,
  data: unknown,
  verify: VerifyRecord,
): CheckedAnswer<{ episodes: FederatedEpisodeModel[]; associates: StoredRecord<AssociatePointerRecord>[]; links: AssociateLinkCounts[] }> {
  const answer = PeerHistoryAnswer.safeParse(data);
  if (!answer.success) return { bad: MemberReason.MALFORMED_ANSWER };
  const records: AnswerRecords = { member, seen: new Set(), dropped: [] };
  const matches = new Map(answer.data.matches.map((m) => [m.subjectRef, m]));
  const episodes: FederatedEpisodeModel[] = [];
  const pointers: { wire: SignedRecordWire; record: AssociatePointerRecord }[] = [];
  for (const wire of answer.data.records) {
    const got = verify(records, wire, [EPISODE_SCHEMA, POINTER_SCHEMA]);
    if (got?.schema === EPISODE_SCHEMA) {
      const match = matches.get(got.record.subjectRef);
      if (!match) notRequested(records, member, got.record.id);
      else episodes.push({ member, match, episode: stored(got.record as EpisodeRecord, got.wire) });
    } else if (got?.schema === POINTER_SCHEMA) {
      pointers.push({ wire: got.wire, record: got.record });
    }
  }
  // A pointer is asked for only when an episode of this answer names it.
  const named = new Set(episodes.flatMap((e) => e.episode.record.facts.associates.map((a) => `${a.owner}/${a.associateId}`)));
  const associates: StoredRecord<AssociatePointerRecord>[] = [];
  for (const p of pointers) {
    if (!named.has(`${p.record.owner}/${p.record.id}`)) notRequested(records, p.record.owner, p.record.id);
    else associates.push(stored(p.record, p.wire));
  }
  // Link counts only for this member's own pointers in this answer.
  const mine = new Set(associates.map((a) => `${a.record.owner}/${a.record.id}`));
  const links = answer.data.associateLinks.filter((l) => l.owner === member && mine.has(`${l.owner}/${l.id}`));
  return { value: { episodes, associates, links }, dropped: records.dropped, withheld: answer.data.withheld };
}

/** mcx.pointers/1: pointers to the ids asked of this owner, and its link counts for them. */
export function checkPointers(
  member: string,
  data: unknown,
  wanted: ReadonlySet<string>,
  verify: VerifyRecord,
): CheckedAnswer<{ pointers: StoredRecord<AssociatePointerRecord>[]; links: AssociateLinkCounts[] }> {
  const answer = PeerPointersAnswer.safeParse(data);
  if (!answer.success) return { bad: MemberReason.MALFORMED_ANSWER };
  const records: AnswerRecords = { member, seen: new Set(), dropped: [] };
  const pointers: StoredRecord<AssociatePointerRecord>[] = [];
  for (const wire of answer.data.records) {
    const got = verify(records, wire, [POINTER_SCHEMA]);
    if (got?.schema !== POINTER_SCHEMA) continue;
    if (!wanted.has(got.record.id)) notRequested(records, member, got.record.id);
    else pointers.push(stored(got.record, got.wire));
  }
  const mine = new Set(pointers.map((p) => p.record.id));
  const links = answer.data.associateLinks.filter((l) => l.owner === member && mine.has(l.id));
  return { value: { pointers, links }, dropped: records.dropped, withheld: answer.data.withheld };
}

/** How far a location is outside the nearest radius asked about (negative: inside); Infinity without a point. */
function beyondRadius(record: LocationRecord, near: readonly Near[]): number {
  const { lat, lon } = record.facts.location;
  if (lat == null || lon == null) return Infinity;
  return Math.min(...near.map((n) => haversineMetres(n, { lat, lon }) - n.radiusMetres));
}

/** mcx.locations/1: locations within a radius asked about (a metre's rounding allowed), with a concern asked about. */
export function checkLocations(
  member: string,
  data: unknown,
  question: { near: readonly Near[]; concerns: readonly string[] | null },
  verify: VerifyRecord,
): CheckedAnswer<LocationNearModel[]> {
  const answer = PeerLocationsAnswer.safeParse(data);
  if (!answer.success) return { bad: MemberReason.MALFORMED_ANSWER };
  const { near, concerns } = question;
  const records: AnswerRecords = { member, seen: new Set(), dropped: [] };
  const found: LocationNearModel[] = [];
  for (const wire of answer.data.records) {
    const got = verify(records, wire, [LOCATION_SCHEMA]);
    if (got?.schema !== LOCATION_SCHEMA) continue;
    const record: LocationRecord = got.record;
    const wanted = !concerns || record.assessment.concerns.some((c) => concerns.includes(c));
    if (beyondRadius(record, near) > 1 || !wanted) {
      notRequested(records, member, record.id);
      continue;
    }
    const point = { lat: record.facts.location.lat!, lon: record.facts.location.lon! };
    const exact = Math.min(...near.map((n) => haversineMetres(n, point)));
    found.push({ location: stored(record, got.wire), distanceMetres: Math.round(exact) });
  }
  return { value: found, dropped: records.dropped, withheld: answer.data.withheld };
}

/** mcx.associateLinks/1: counts for the associates asked about; an entry that is not a count is left out. */
export function checkLinks(data: unknown, asked: ReadonlySet<string>): CheckedAnswer<LinkCount[]> {
  const answer = PeerLinksAnswer.safeParse(data);
  if (!answer.success) return { bad: MemberReason.MALFORMED_ANSWER };
  const links = answer.data.links.flatMap((entry) => {
    const link = LinkCountWire.safeParse(entry);
    return link.success && asked.has(`${link.data.owner}/${link.data.id}`) ? [link.data] : [];
  });
  return { value: links, dropped: [], withheld: null };
}
