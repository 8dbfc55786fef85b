/**
 * The receiving end of the peer protocol: what this node answers a member through the
 * allow-listed operations. The owner's disclosure policy shapes every record, and the disclosure
 * is audited (with the caller's entry id) before anything is returned. Built per request from its
 * context (`peerAnswers(ctx)`): the request's peer call carries the caller's entry, and takes
 * this node's disclosure entry and whether the answer was cut.
 */
import type { DerivedLinkageKey } from '@mcx/linkage';

import type { AuthorisedRead } from '../auth/access.js';
import type { Context } from '../context.js';
import type { AssociateRecord } from '../modules/associate/associate-model.js';
import { committed } from '../modules/audit/read-audit.js';
import { discloseAssociate } from '../modules/disclosure/disclose.js';
import { withholdingRule } from '../modules/disclosure/policy.js';
import type { EpisodeRecord } from '../modules/episode/episode-model.js';
import type { LocationRecord } from '../modules/location-of-concern/location-model.js';
import { byPolicy } from '../modules/records/audited-read.js';
import type { Grading } from '../modules/records/grading.js';
import { boundingBox, haversineMetres } from '../modules/records/location.js';
import type { Kind, StoredRecord } from '../modules/records/record-kind.js';
import type { Near } from './answer-checks.js';

/** The most episodes one matched subject contributes to an answer. */
export const MAX_EPISODES_PER_SUBJECT = 500;
/** The most locations of concern one point may return. */
const MAX_LOCATIONS_PER_POINT = 200;

/** A linkage key a member sent, checked (resolvers.ts checkKeys). */
export type PeerKey = Pick<DerivedLinkageKey, 'kind' | 'strength' | 'keyVersion' | 'key' | 'variant'>;

/** What this node withheld from a peer's answer, by reason. */
interface PeerWithheld {
  restricted: number;
  reviewOverdue: number;
  notDisclosable: number;
  /** Records whose stored signature fails here (integrity faults): withheld, never signed again. */
  integrityFault: number;
}

const noneWithheld = (): PeerWithheld => ({ restricted: 0, reviewOverdue: 0, notDisclosable: 0, integrityFault: 0 });

/**
 * The counts as peer protocol version 1 carries them: three counts, so a record withheld for an
 * integrity fault goes out as not disclosable (this owner will not disclose it), and
 * integrityFault is null. The audit entry keeps them apart.
 */
function onWire(w: PeerWithheld) {
  return {
    restricted: w.restricted,
    reviewOverdue: w.reviewOverdue,
    notDisclosable: w.notDisclosable + w.integrityFault,
    integrityFault: null,
  };
}

/** The audit reason for what was withheld (WITHHELD:R1:O0:N2, with :I1 for integrity faults); null when nothing was. */
function withheldReason(w: PeerWithheld | null): string | null {
  if (!w || w.notDisclosable + w.restricted + w.reviewOverdue + w.integrityFault === 0) return null;
  const faults = w.integrityFault > 0 ? `:I${w.integrityFault}` : '';
  return `WITHHELD:R${w.restricted}:O${w.reviewOverdue}:N${w.notDisclosable}${faults}`;
}

const toSigned = (s: StoredRecord<{ kind: string; owner: string; id: string; version: number }>) => ({
  kind: s.record.kind,
  owner: s.record.owner,
  id: s.record.id,
  version: s.record.version,
  bytes: s.bytes,
  signature: s.signature,
});

/** Two independent fuzzy kinds (a name and a phone), or any strong one, link an associate; one shared phone does not. */
function links(m: { strength: string; matchedKinds: string[] }): boolean {
  return m.strength === 'STRONG' || m.matchedKinds.length >= 2;
}

/** Whether a location lies within the point's radius, with one of the concerns asked about. */
function within(n: Near, record: LocationRecord, concerns: readonly string[] | null): boolean {
  const loc = record.facts.location;
  if (loc.lat === null || loc.lon === null || haversineMetres(n, { lat: loc.lat, lon: loc.lon }) > n.radiusMetres) return false;
  return !concerns || record.assessment.concerns.some((c) => concerns.includes(c));
}

export class PeerAnswerService {
  constructor(private readonly ctx: Context) {}

  /** mcx.history/1: the episodes of the subjects here matching the keys, and pointers to the associates they name. */
  async history(read: AuthorisedRead, query: readonly PeerKey[]) {
    const { ctx } = this;
    const { subjects, records } = ctx.services;
    const matches = (await subjects.matchQuery(query)).filter((m) => m.owner === ctx.forceCode);
    const withheld = noneWithheld();
    const released: StoredRecord<EpisodeRecord>[] = [];
    for (const m of matches) {
      const page = await records.listLocal<EpisodeRecord>('episode', { subjectRef: m.subjectRef, first: MAX_EPISODES_PER_SUBJECT });
      // More than the cap: the answer is cut, and says so (the caller reports it, and is PARTIAL).
      if (page.nextCursor) ctx.peerCall!.truncated = true;
      withheld.restricted += page.withheld.restricted;
      withheld.reviewOverdue += page.withheld.reviewOverdue;
      withheld.integrityFault += page.withheld.integrityFault;
      for (const n of page.nodes) {
        const shaped = byPolicy(ctx, read.requester, n);
        if ('released' in shaped) released.push(shaped.released);
        else withheld.notDisclosable += 1;
      }
    }
    // The associates those episodes name that this node holds, as signed pointers: never a name.
    const own = released.flatMap((e) => e.record.facts.associates.filter((a) => a.owner === ctx.forceCode).map((a) => a.associateId));
    const pointers = await this.pointersFor(read, [...new Set(own)], withheld);
    const out = [...released.map(toSigned), ...pointers.map(toSigned)];
    const associateLinks = await this.linkCounts(pointers.map((p) => p.record.id));
    await this.auditDisclosure(read, 'peerHistory', out, withheld, subjects.digest(query));
    return {
      matches: matches.map(({ subjectRef, strength, matchedKinds, conflicts }) => ({ subjectRef, strength, matchedKinds, conflicts })),
      records: out,
      withheld: onWire(withheld),
      associateLinks,
    };
  }

  /** mcx.pointers/1: signed pointers to associates held here, with their stored link counts (`exclude` is no longer needed for them). */
  async pointers(read: AuthorisedRead, ids: readonly string[], _exclude: readonly PeerKey[]) {
    const withheld = noneWithheld();
    const pointers = await this.pointersFor(read, [...new Set(ids)], withheld);
    const associateLinks = await this.linkCounts(pointers.map((p) => p.record.id));
    const out = pointers.map(toSigned);
    await this.auditDisclosure(read, 'peerAssociatePointers', out, withheld, null);
    return { records: out, withheld: onWire(withheld), associateLinks };
  }

  /**
   * mcx.associateLinks/1: how many children (other than those matching `exclude`) this node links
   * to each associate. Only what the asker could be told of counts: an associate or an episode the
   * policy withholds from it (graded E, a condition that excludes it) adds nothing, so a count is
   * no oracle for it.
   */
  async associateLinks(read: AuthorisedRead, associates: readonly { owner: string; id: string; keys: PeerKey[] }[], exclude: PeerKey[]) {
    const { ctx } = this;
    const { subjects, records, disclosure } = ctx.services;
    const today = records.today();
    const excludedMatches = exclude.length ? await subjects.matchQuery(exclude) : [];
    const excluded = new Set(excludedMatches.filter((m) => m.owner === ctx.forceCode).map((m) => m.subjectRef));
    const admitted = (record: { kind: Kind; owner: string; grading?: Grading | null }) =>
      withholdingRule(disclosure.policy, read.requester, { kind: record.kind, owner: record.owner, grading: record.grading ?? null }) ===
      null;
    const out = [];
    for (const a of associates) {
      // This node's own associates with the same keys, and the pointer itself (episodes may name another force's associate).
      const same: string[] = [];
      for (const m of (await subjects.matchQuery(a.keys, 'associate')).filter((x) => x.owner === ctx.forceCode && links(x))) {
        const found = await records.read<AssociateRecord>('associate', ctx.forceCode, m.subjectRef);
        if (found.record && admitted(found.record.record)) same.push(`${m.owner}/${m.subjectRef}`);
      }
      const naming = await records.subjectsNaming(ctx.forceCode, [`${a.owner}/${a.id}`, ...same], today, admitted);
      out.push({ owner: a.owner, id: a.id, children: naming.filter((s) => !excluded.has(s)).length });
    }
    const digest = subjects.digest(associates.flatMap((a) => a.keys));
    await this.auditDisclosure(read, 'peerAssociateLinks', [], null, digest, 'LINK_COUNTS');
    return { links: out };
  }

  /** mcx.locations/1: locations of concern held here near the points, optionally by concern. */
  async locations(read: AuthorisedRead, near: readonly Near[], concerns: readonly string[] | null) {
    const withheld = noneWithheld();
    const { found, held, faulty } = await this.locationsNear(near, concerns);
    withheld.integrityFault = faulty.size;
    for (const reason of held.values()) withheld[reason === 'RESTRICTED' ? 'restricted' : 'reviewOverdue'] += 1;
    const out = [];
    for (const candidate of found.values()) {
      const shaped = byPolicy(this.ctx, read.requester, candidate);
      if ('released' in shaped) out.push(toSigned(shaped.released));
      else withheld.notDisclosable += 1;
    }
    await this.auditDisclosure(read, 'peerLocations', out, withheld, null);
    return { records: out, withheld: onWire(withheld) };
  }

  /** The candidates within each point's radius, what matched but is withheld now, and the ids whose stored copy fails. */
  private async locationsNear(near: readonly Near[], concerns: readonly string[] | null) {
    const { records } = this.ctx.services;
    const today = records.today();
    const found = new Map<string, StoredRecord<LocationRecord>>();
    const faulty = new Set<string>();
    const held = new Map<string, 'RESTRICTED' | 'REVIEW_OVERDUE'>();
    for (const n of near) {
      const box = boundingBox(n, n.radiusMetres);
      // One more than the cap: if it comes back, the answer is cut, and says so.
      const inBox = await records.inBox<LocationRecord>('location_of_concern', box, today, MAX_LOCATIONS_PER_POINT + 1);
      if (inBox.records.length + inBox.faulty.length > MAX_LOCATIONS_PER_POINT) {
        this.ctx.peerCall!.truncated = true;
        inBox.records.splice(MAX_LOCATIONS_PER_POINT - inBox.faulty.length);
      }
      // What matched but a reader may not see now: counted, never sent.
      for (const w of await records.withheldInBox<LocationRecord>('location_of_concern', box, today, MAX_LOCATIONS_PER_POINT)) {
        if (within(n, w.record, concerns)) held.set(w.record.id, w.reason);
      }
      // Candidates whose stored copy fails: withheld and counted (once, whatever the boxes they are in).
      for (const id of inBox.faulty) faulty.add(id);
      for (const candidate of inBox.records) if (within(n, candidate.record, concerns)) found.set(candidate.record.id, candidate);
    }
    return { found, held, faulty };
  }

  /** Signed pointers to associates held here, by id; a withheld one counts as not disclosable, or as an integrity fault. */
  private async pointersFor(read: AuthorisedRead, ids: readonly string[], withheld: PeerWithheld) {
    const { ctx } = this;
    const pointers = [];
    for (const id of ids) {
      const found = await ctx.services.records.read<AssociateRecord>('associate', ctx.forceCode, id);
      if (found.withheld === 'INTEGRITY_FAULT') withheld.integrityFault += 1;
      if (found.withheld === 'RESTRICTED') withheld.restricted += 1;
      if (found.withheld === 'REVIEW_OVERDUE') withheld.reviewOverdue += 1;
      if (!found.record) continue;
      // Always a pointer in a federated answer, even to a reader of the owner's own force.
      const d = discloseAssociate(ctx.services.disclosure, read.requester, found.record, { asPointer: true });
      if (d.outcome === 'pointer') pointers.push(d.pointer);
      else withheld.notDisclosable += 1;
    }
    return pointers;
  }

  /**
   * The disclosure entry for a peer's request, naming the caller's entry; its id goes into the
   * signed receipt. Nothing is released if it cannot be written.
   */
  private async auditDisclosure(
    read: AuthorisedRead,
    operation: string,
    released: readonly { owner: string; id: string }[],
    withheld: PeerWithheld | null,
    linkageDigest: string | null,
    reason?: string,
  ) {
    const { ctx } = this;
    const peer = ctx.peerCall!;
    const entry = await committed(() =>
      ctx.services.audit.record({
        action: 'disclosure',
        viewer: read.viewer,
        requestingNode: read.requestingNode,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest,
        operation,
        queryIds: [],
        recordIds: released.map((r) => `${r.owner}/${r.id}`),
        outcome: 'success',
        reason: reason ?? withheldReason(withheld),
        peerEntryId: peer.callerEntry,
      }),
    );
    peer.entry = { id: `${ctx.forceCode}:${entry.seq}`, hash: entry.hash };
  }

  /**
   * For this node's own associates in an answer: the link counts it keeps in the background
   * (modules/associate/link-count-service.ts), each member's with the time it was given. Nobody is
   * asked anything while the answer waits, and counts are all that leave: never which children.
   */
  private linkCounts(associateIds: string[]) {
    return this.ctx.services.linkCounts.counts(associateIds);
  }
}

/** This request's answers to a member (it holds no state beyond the request's context). */
export function peerAnswers(ctx: Context): PeerAnswerService {
  return new PeerAnswerService(ctx);
}
