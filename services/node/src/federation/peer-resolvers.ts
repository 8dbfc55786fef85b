/**
 * The receiving end of the peer protocol: what a member node may ask this node, through the
 * allow-listed operations only. The owner's disclosure policy shapes every record, and the
 * disclosure is audited (with the caller's entry id) before anything is returned.
 */
import { GraphQLError } from 'graphql';

import { KEY_KIND_STRENGTH, type KeyKind } from '@mcx/linkage';

import type { McxPeerKeyInput, QueryResolvers } from '../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../auth/access.js';
import { committed, type Context } from '../context.js';
import type { AssociateRecord } from '../modules/associate/associate-spec.js';
import { discloseAssociate } from '../modules/disclosure/disclose.js';
import { withholdingRule } from '../modules/disclosure/policy.js';
import type { EpisodeRecord } from '../modules/episode/episode-model.js';
import { boundingBox, haversineMetres } from '../modules/history/history-model.js';
import type { LocationRecord } from '../modules/location-of-concern/location-spec.js';
import { byPolicy } from '../modules/records/audited-read.js';
import type { Grading } from '../modules/records/grading.js';
import type { Kind, StoredRecord } from '../modules/records/record-kind.js';

/** The most keys one request may carry (one identity makes about a dozen, two key versions double it). */
export const MAX_PEER_KEYS = 64;
/** The most episodes one matched subject contributes to an answer. */
export const MAX_EPISODES_PER_SUBJECT = 500;

const VARIANTS = new Set(['dob_swapped', 'sex_expanded']);
const KEY = /^[A-Za-z0-9_-]{16,128}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

function badInput(message: string): never {
  throw new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function checkKeys(keys: readonly McxPeerKeyInput[]) {
  if (keys.length === 0 || keys.length > MAX_PEER_KEYS) badInput(`keys must hold 1 to ${MAX_PEER_KEYS} linkage keys`);
  return keys.map((k, i) => {
    const base = KEY_KIND_STRENGTH[k.kind as KeyKind];
    if (!base) badInput(`keys.${i}.kind is not a linkage key kind`);
    if (k.variant != null && !VARIANTS.has(k.variant)) badInput(`keys.${i}.variant is unknown`);
    // A variant (a swapped day and month, a guessed sex) is only ever fuzzy.
    const strength = k.variant != null ? 'fuzzy' : base;
    if (k.strength !== strength) badInput(`keys.${i}.strength does not match its kind`);
    if (!KEY.test(k.key) || !VERSION.test(k.keyVersion)) badInput(`keys.${i} is not a linkage key`);
    return {
      kind: k.kind as KeyKind,
      strength,
      keyVersion: k.keyVersion,
      key: k.key,
      ...(k.variant ? { variant: k.variant as 'dob_swapped' | 'sex_expanded' } : {}),
    };
  });
}

const toSigned = (s: StoredRecord<{ kind: string; owner: string; id: string; version: number }>) => ({
  kind: s.record.kind,
  owner: s.record.owner,
  id: s.record.id,
  version: s.record.version,
  bytes: s.bytes,
  signature: s.signature,
});

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

export const peerHistory: NonNullable<QueryResolvers['peerHistory']> = async (_, { keys }, ctx: Context) => {
  const read = await ctx.access.requirePeer('peerHistory');
  const query = checkKeys(keys);
  const { subjects, records, disclosure } = ctx.services;
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
  const named = [
    ...new Set(released.flatMap((e) => e.record.facts.associates.filter((a) => a.owner === ctx.forceCode).map((a) => a.associateId))),
  ];
  const pointers = await pointersFor(ctx, read, named, withheld);
  const out = [...released.map(toSigned), ...pointers.map(toSigned)];
  const associateLinks = await linkCounts(
    ctx,
    read,
    pointers.map((p) => p.record.id),
    query,
  );
  await auditDisclosure(
    ctx,
    read,
    'peerHistory',
    out.map((r) => `${r.owner}/${r.id}`),
    withheld,
    subjects.digest(query),
  );
  return {
    matches: matches.map(({ subjectRef, strength, matchedKinds, conflicts }) => ({ subjectRef, strength, matchedKinds, conflicts })),
    records: out,
    withheld: onWire(withheld),
    associateLinks,
  };
};

/** Signed pointers to associates held here, by id; a withheld one counts as not disclosable, or as an integrity fault. */
async function pointersFor(ctx: Context, read: AuthorisedRead, ids: readonly string[], withheld: PeerWithheld) {
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

/** The most pointers one request may ask for. */
const MAX_POINTERS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export const peerAssociatePointers: NonNullable<QueryResolvers['peerAssociatePointers']> = async (_, { ids, exclude }, ctx: Context) => {
  const read = await ctx.access.requirePeer('peerAssociatePointers');
  if (ids.length === 0 || ids.length > MAX_POINTERS || !ids.every((id) => UUID.test(id)))
    badInput(`ids must hold 1 to ${MAX_POINTERS} associate ids`);
  const childKeys = exclude.length ? checkKeys(exclude) : [];
  const withheld = noneWithheld();
  const pointers = await pointersFor(ctx, read, [...new Set(ids)], withheld);
  const associateLinks = await linkCounts(
    ctx,
    read,
    pointers.map((p) => p.record.id),
    childKeys,
  );
  const out = pointers.map(toSigned);
  await auditDisclosure(
    ctx,
    read,
    'peerAssociatePointers',
    out.map((r) => `${r.owner}/${r.id}`),
    withheld,
    null,
  );
  return { records: out, withheld: onWire(withheld), associateLinks };
};

/**
 * The disclosure entry for a peer's request, naming the caller's entry; its id goes into the
 * signed receipt. Nothing is released if it cannot be written.
 */
async function auditDisclosure(
  ctx: Context,
  read: AuthorisedRead,
  operation: string,
  recordIds: string[],
  withheld: PeerWithheld | null,
  linkageDigest: string | null,
  reason?: string,
) {
  const peer = ctx.peerCall!;
  const held =
    withheld && withheld.notDisclosable + withheld.restricted + withheld.reviewOverdue + withheld.integrityFault > 0
      ? `WITHHELD:R${withheld.restricted}:O${withheld.reviewOverdue}:N${withheld.notDisclosable}${withheld.integrityFault > 0 ? `:I${withheld.integrityFault}` : ''}`
      : null;
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
      recordIds,
      outcome: 'success',
      reason: reason ?? held,
      peerEntryId: peer.callerEntry,
    }),
  );
  peer.entry = { id: `${ctx.forceCode}:${entry.seq}`, hash: entry.hash };
}

/**
 * For this node's own associates in an answer: how many other children each member links to
 * them. The owner holds the associates' keys, so it asks the members itself (mcx.associateLinks/1,
 * a short deadline), after auditing that it does so; the child's own keys go along so that no
 * member counts the child being asked about.
 */
async function linkCounts(ctx: Context, read: AuthorisedRead, associateIds: string[], childKeys: ReturnType<typeof checkKeys>) {
  const federation = ctx.services.federation;
  if (associateIds.length === 0 || !federation) return [];
  const associates = await Promise.all(
    associateIds.map(async (id) => ({ owner: ctx.forceCode, id, keys: await ctx.services.subjects.associateKeys(id) })),
  );
  const withKeys = associates.filter((a) => a.keys.length > 0);
  const counts = new Map<string, { owner: string; id: string; byForce: { force: string; children: number }[]; complete: boolean }>();
  for (const a of associates) counts.set(a.id, { owner: a.owner, id: a.id, byForce: [], complete: a.keys.length > 0 });
  if (withKeys.length > 0) {
    const consultation = await committed(() =>
      ctx.services.audit.record({
        action: 'consultation',
        viewer: read.viewer,
        requestingNode: read.requestingNode,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest: ctx.services.subjects.digest(withKeys.flatMap((a) => a.keys)),
        operation: 'associateLinks',
        queryIds: withKeys.map((a) => `${a.owner}/${a.id}`),
        recordIds: [],
        outcome: 'success',
        peerEntryId: ctx.peerCall?.callerEntry ?? null,
      }),
    );
    const answer = await federation.associateLinks(read, withKeys, childKeys, `${ctx.forceCode}:${consultation.seq}`);
    // The members' receipts are part of this node's audit: without them, nothing is released.
    await committed(() => ctx.services.audit.saveReceipts(answer.receipts, consultation.seq));
    for (const c of answer.counts) counts.set(c.id, c);
  }
  return [...counts.values()];
}

/** Two independent fuzzy kinds (a name and a phone), or any strong one, link an associate; one shared phone does not. */
function links(m: { strength: string; matchedKinds: string[] }): boolean {
  return m.strength === 'STRONG' || m.matchedKinds.length >= 2;
}

export const peerAssociateLinks: NonNullable<QueryResolvers['peerAssociateLinks']> = async (_, { associates, exclude }, ctx: Context) => {
  if (associates.length === 0 || associates.length > 50) badInput('associates must hold 1 to 50 associates');
  const read = await ctx.access.requireOwnerPeer(
    'peerAssociateLinks',
    associates.map((a) => a.owner),
  );
  const excludeKeys = exclude.length ? checkKeys(exclude) : [];
  const { subjects, records, disclosure } = ctx.services;
  const today = ctx.services.records.today();
  const excluded = new Set(
    excludeKeys.length ? (await subjects.matchQuery(excludeKeys)).filter((m) => m.owner === ctx.forceCode).map((m) => m.subjectRef) : [],
  );
  // Only what the asker could be told of counts: an associate or an episode the policy withholds
  // from it (graded E, a condition that excludes it) adds nothing, so a count is no oracle for it.
  const admitted = (record: { kind: Kind; owner: string; grading?: Grading | null }) =>
    withholdingRule(disclosure.policy, read.requester, { kind: record.kind, owner: record.owner, grading: record.grading ?? null }) ===
    null;
  const out = [];
  for (const a of associates) {
    const keys = checkKeys(a.keys);
    // This node's own associates with the same keys, and the pointer itself (episodes may name another force's associate).
    const same: string[] = [];
    for (const m of (await subjects.matchQuery(keys, 'associate')).filter((x) => x.owner === ctx.forceCode && links(x))) {
      const found = await records.read<AssociateRecord>('associate', ctx.forceCode, m.subjectRef);
      if (found.record && admitted(found.record.record)) same.push(`${m.owner}/${m.subjectRef}`);
    }
    const children = (await records.subjectsNaming(ctx.forceCode, [`${a.owner}/${a.id}`, ...same], today, admitted)).filter(
      (s) => !excluded.has(s),
    );
    out.push({ owner: a.owner, id: a.id, children: children.length });
  }
  await auditDisclosure(ctx, read, 'peerAssociateLinks', [], null, subjects.digest(associates.flatMap((a) => a.keys)), 'LINK_COUNTS');
  return { links: out };
};

/** The most locations of concern one point may return. */
const MAX_LOCATIONS_PER_POINT = 200;

export const peerLocations: NonNullable<QueryResolvers['peerLocations']> = async (_, { near, concerns }, ctx: Context) => {
  const read = await ctx.access.requirePeer('peerLocations');
  if (near.length === 0 || near.length > 50) badInput('near must hold 1 to 50 points');
  for (const [i, n] of near.entries()) {
    if (!(Math.abs(n.lat) <= 90 && Math.abs(n.lon) <= 180 && n.radiusMetres > 0 && n.radiusMetres <= 50_000))
      badInput(`near.${i} must be a point with a radius up to 50 km`);
  }
  const { records } = ctx.services;
  const today = records.today();
  const withheld = noneWithheld();
  const found = new Map<string, StoredRecord<LocationRecord>>();
  const faulty = new Set<string>();
  const within = (n: (typeof near)[number], record: LocationRecord) => {
    const loc = record.facts.location;
    if (loc.lat === null || loc.lon === null || haversineMetres(n, { lat: loc.lat, lon: loc.lon }) > n.radiusMetres) return false;
    return !concerns || record.assessment.concerns.some((c) => concerns.includes(c));
  };
  const held = new Map<string, 'RESTRICTED' | 'REVIEW_OVERDUE'>();
  for (const n of near) {
    // One more than the cap: if it comes back, the answer is cut, and says so.
    const box = await records.inBox<LocationRecord>(
      'location_of_concern',
      boundingBox(n, n.radiusMetres),
      today,
      MAX_LOCATIONS_PER_POINT + 1,
    );
    if (box.records.length + box.faulty.length > MAX_LOCATIONS_PER_POINT) {
      ctx.peerCall!.truncated = true;
      box.records.splice(MAX_LOCATIONS_PER_POINT - box.faulty.length);
    }
    // What matched but a reader may not see now: counted, never sent.
    for (const w of await records.withheldInBox<LocationRecord>(
      'location_of_concern',
      boundingBox(n, n.radiusMetres),
      today,
      MAX_LOCATIONS_PER_POINT,
    )) {
      if (within(n, w.record)) held.set(w.record.id, w.reason);
    }
    // Candidates whose stored copy fails: withheld and counted (once, whatever the boxes they are in).
    for (const id of box.faulty) faulty.add(id);
    for (const candidate of box.records) if (within(n, candidate.record)) found.set(candidate.record.id, candidate);
  }
  withheld.integrityFault = faulty.size;
  for (const reason of held.values()) withheld[reason === 'RESTRICTED' ? 'restricted' : 'reviewOverdue'] += 1;
  const out = [];
  for (const candidate of found.values()) {
    const shaped = byPolicy(ctx, read.requester, candidate);
    if ('released' in shaped) out.push(toSigned(shaped.released));
    else withheld.notDisclosable += 1;
  }
  await auditDisclosure(
    ctx,
    read,
    'peerLocations',
    out.map((r) => `${r.owner}/${r.id}`),
    withheld,
    null,
  );
  return { records: out, withheld: onWire(withheld) };
};
