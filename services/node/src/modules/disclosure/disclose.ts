/**
 * Applies the disclosure policy to one stored record for one requester. What leaves is either
 * the exact stored bytes and signature (nothing had to change) or a disclosed view: the record
 * with the fields the policy removes or coarsens changed, a `disclosure` note naming what was
 * changed, signed again by the owner's record key. A recipient verifies either the same way,
 * against the owner's keys in the trust manifest. Only records whose stored signature verified
 * here are shaped (RecordService checks it): a record changed in the database is never signed again.
 */
import type { AssociatePointerRecord, AssociateRecord, DisclosureNote } from '../associate/associate-model.js';
import type { EpisodeRecord, Place } from '../episode/episode-model.js';
import type { Grading } from '../records/grading.js';
import { isVerified } from '../records/record-integrity.js';
import type { Kind, StoredRecord } from '../records/record-kind.js';
import {
  exactPlacements,
  isOwner,
  sensitiveReleased,
  withholdingRule,
  type DisclosurePolicy,
  type PolicyRule,
  type Requester,
} from './policy.js';

/** The outcome for one record. */
export type Disclosed<T> =
  { outcome: 'disclosed'; record: StoredRecord<T>; note: DisclosureNote | null } | { outcome: 'withheld'; rule: PolicyRule };

/** What disclose() needs from the node: the policy, the record signer and the owner's contact. */
export interface Discloser {
  policy: DisclosurePolicy;
  /** Signs an object with the owner's record key: the canonical bytes and a detached JWS. */
  sign(view: object): { bytes: string; signature: string };
  /** The 24/7 contact of a member, from the trust manifest. */
  contactOf(force: string): string | null;
}

/** The postcode district (outward code): `B1 1AA` gives `B1`. */
export function postcodeDistrict(postcode: string): string {
  const compact = postcode.replace(/\s+/g, '').toUpperCase();
  return compact.slice(0, -3);
}

function coarsenPlace(place: Place, path: string, coarsened: string[]): Place {
  coarsened.push(`${path}.location`);
  if (!place.location) return place;
  const district = place.location.postcode ? postcodeDistrict(place.location.postcode) : null;
  // Without a postcode there is no district to give: the place kind stays, the point goes.
  return { ...place, location: district ? { uprn: null, postcode: district, lat: null, lon: null } : null };
}

/** The field-level rules on an episode: sensitive indicators and themes, placement addresses. */
function episodeView(d: Discloser, r: Requester, e: EpisodeRecord): { view: EpisodeRecord; redacted: string[]; coarsened: string[] } {
  const redacted: string[] = [];
  const coarsened: string[] = [];
  let view = e;
  // The field rules shape what leaves the owner; the owner's own readers see its record whole.
  if (!isOwner(r, e)) {
    // The note names what the policy withholds from this requester, never whether a value was
    // there: "themes redacted" must not mean "a mental-health theme exists".
    if (!sensitiveReleased(d.policy, r)) {
      const sensitive = d.policy.sensitive.indicators as readonly string[];
      view = { ...view, assessment: { ...view.assessment, indicators: e.assessment.indicators.filter((i) => !sensitive.includes(i)) } };
      redacted.push('assessment.indicators');
      const themes = d.policy.sensitive.rhiThemes as readonly string[];
      const rhi = e.facts.returnInterview;
      if (rhi)
        view = { ...view, facts: { ...view.facts, returnInterview: { ...rhi, themes: rhi.themes.filter((t) => !themes.includes(t)) } } };
      redacted.push('facts.returnInterview.themes');
    }
    if (!exactPlacements(d.policy, r, e.grading)) {
      // A placement's address is coarsened whenever the place is a placement (its kind is disclosed anyway).
      const placements = d.policy.placements.placeKinds as readonly string[];
      let facts = view.facts;
      if (placements.includes(facts.missingFrom.kind))
        facts = { ...facts, missingFrom: coarsenPlace(facts.missingFrom, 'facts.missingFrom', coarsened) };
      if (facts.foundPlace && placements.includes(facts.foundPlace.kind))
        facts = { ...facts, foundPlace: coarsenPlace(facts.foundPlace, 'facts.foundPlace', coarsened) };
      view = { ...view, facts };
    }
  }
  return { view, redacted, coarsened };
}

/** An associate as a pointer: what another force may know of someone another force holds. */
export function associatePointer(d: Discloser, a: AssociateRecord): AssociatePointerRecord {
  const isChild = a.descriptors.isChild;
  const pointer = isChild ? 'CHILD' : a.assessment.flags.includes('ADULT_OF_CONCERN') ? 'ADULT_OF_CONCERN' : 'ADULT';
  return {
    schema: 'mcx.associate-pointer/1',
    kind: 'associate',
    owner: a.owner,
    id: a.id,
    version: a.version,
    marking: a.marking,
    pointer,
    ownerReference: isChild ? null : a.ownerReference,
    grading: isChild ? null : a.grading,
    flags: isChild ? a.assessment.flags.filter((f) => f === 'PEER_ALSO_MISSING') : a.assessment.flags,
    contact: d.contactOf(a.owner),
    disclosure: {
      policy: d.policy.version,
      redacted: isChild ? ['descriptors', 'grading', 'ownerReference', 'assessment.flags'] : ['descriptors'],
      coarsened: [],
    },
  };
}

function gradingOf(record: { grading?: Grading | null }): Grading | null {
  return record.grading ?? null;
}

/**
 * Only a record read through RecordService, whose stored signature verified, is disclosed or
 * signed again: a view built from bytes changed in the database would otherwise leave signed.
 */
function assertVerified(stored: StoredRecord<unknown>): void {
  if (!isVerified(stored)) throw new Error('disclose: the record was not read through a verified path; nothing is signed or released');
}

/**
 * Decides and shapes one readable record (already past the integrity, restricted and review
 * checks) for one requester: withheld by a record-level rule, or disclosed (re-signed when a
 * field rule changed it). Associates go through discloseAssociate, which makes them pointers.
 */
export function disclose<T extends { kind: Kind; owner: string }>(d: Discloser, r: Requester, stored: StoredRecord<T>): Disclosed<T> {
  assertVerified(stored);
  const record = stored.record;
  const rule = withholdingRule(d.policy, r, {
    kind: record.kind,
    owner: record.owner,
    grading: gradingOf(record as { grading?: Grading | null }),
  });
  if (rule) return { outcome: 'withheld', rule };
  if (record.kind !== 'episode') return { outcome: 'disclosed', record: stored, note: null };
  const { view, redacted, coarsened } = episodeView(d, r, record as unknown as EpisodeRecord);
  if (redacted.length === 0 && coarsened.length === 0) return { outcome: 'disclosed', record: stored, note: null };
  const note: DisclosureNote = { policy: d.policy.version, redacted, coarsened };
  const signed = d.sign({ ...view, disclosure: note });
  return {
    outcome: 'disclosed',
    record: {
      record: { ...(view as unknown as T), disclosure: note },
      bytes: signed.bytes,
      signature: signed.signature,
      state: stored.state,
    },
    note,
  };
}

/** An associate as a signed pointer (the owner's record key signs it). */
export function signedPointer(d: Discloser, stored: StoredRecord<AssociateRecord>): StoredRecord<AssociatePointerRecord> {
  assertVerified(stored);
  const pointer = associatePointer(d, stored.record);
  const signed = d.sign(pointer);
  return { record: pointer, bytes: signed.bytes, signature: signed.signature, state: stored.state };
}

/**
 * An associate for a requester: whole for its owner's readers, a signed pointer for everyone
 * else (or for everyone, with `asPointer`). Withheld like any record when the policy says so.
 */
export function discloseAssociate(
  d: Discloser,
  r: Requester,
  stored: StoredRecord<AssociateRecord>,
  opts: { asPointer?: boolean } = {},
): Disclosed<AssociateRecord> | { outcome: 'pointer'; pointer: StoredRecord<AssociatePointerRecord> } {
  const decided = disclose(d, r, stored);
  if (decided.outcome === 'withheld' || (isOwner(r, stored.record) && !opts.asPointer)) return decided;
  return { outcome: 'pointer', pointer: signedPointer(d, stored) };
}
