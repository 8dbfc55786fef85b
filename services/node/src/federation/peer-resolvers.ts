/**
 * The receiving end of the peer protocol: what a member node may ask this node, through the
 * allow-listed operations only. The owner's disclosure policy shapes every record, and the
 * disclosure is audited (with the caller's entry id) before anything is returned.
 */
import { GraphQLError } from 'graphql';
import { KEY_KIND_STRENGTH, type KeyKind } from '@mcx/linkage';
import type { Context } from '../context.js';
import type { McxPeerKeyInput, QueryResolvers } from '../__generated__/resolvers-types.js';
import { discloseAssociate, associatePointer } from '../modules/disclosure/disclose.js';
import type { AssociateRecord } from '../modules/associate/associate-spec.js';
import type { EpisodeRecord } from '../modules/episode/episode-model.js';
import { byPolicy } from '../modules/records/audited-read.js';
import type { StoredRecord } from '../modules/records/record-kind.js';

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
    return { kind: k.kind as KeyKind, strength, keyVersion: k.keyVersion, key: k.key, ...(k.variant ? { variant: k.variant as 'dob_swapped' | 'sex_expanded' } : {}) };
  });
}

const toSigned = (s: StoredRecord<{ kind: string; owner: string; id: string; version: number }>) => ({ kind: s.record.kind, owner: s.record.owner, id: s.record.id, version: s.record.version, bytes: s.bytes, signature: s.signature });

export const peerHistory: NonNullable<QueryResolvers['peerHistory']> = async (_, { keys }, ctx: Context) => {
  const read = await ctx.access.requirePeer('peerHistory');
  const query = checkKeys(keys);
  const { subjects, records, disclosure, audit } = ctx.services;
  const matches = (await subjects.matchQuery(query)).filter((m) => m.owner === ctx.forceCode);
  const withheld = { restricted: 0, reviewOverdue: 0, notDisclosable: 0 };
  const released: StoredRecord<EpisodeRecord>[] = [];
  for (const m of matches) {
    const page = await records.listLocal<EpisodeRecord>('episode', { subjectRef: m.subjectRef, first: MAX_EPISODES_PER_SUBJECT });
    withheld.restricted += page.withheld.restricted;
    withheld.reviewOverdue += page.withheld.reviewOverdue;
    for (const n of page.nodes) {
      const shaped = byPolicy(ctx, read.requester, n);
      if ('released' in shaped) released.push(shaped.released);
      else withheld.notDisclosable += 1;
    }
  }
  // The associates those episodes name that this node holds, as signed pointers: never a name.
  const pointers = [];
  const named = new Set(released.flatMap((e) => e.record.facts.associates.filter((a) => a.owner === ctx.forceCode).map((a) => a.associateId)));
  for (const id of named) {
    const found = await records.read<AssociateRecord>('associate', ctx.forceCode, id);
    if (!found.record) continue;
    const d = discloseAssociate(disclosure, read.requester, found.record);
    if (d.outcome === 'withheld') continue;
    if (d.outcome === 'pointer') pointers.push(d.pointer);
    else {
      const view = associatePointer(disclosure, found.record.record);
      pointers.push({ record: view, ...disclosure.sign(view), state: found.record.state });
    }
  }
  const out = [...released.map(toSigned), ...pointers.map(toSigned)];
  const peer = ctx.peerCall!;
  let entry;
  try {
    entry = await audit.record({
      action: 'disclosure',
      viewer: read.viewer,
      requestingNode: read.requestingNode,
      purpose: read.purpose,
      caseRef: read.caseRef,
      linkageDigest: subjects.digest(query),
      operation: 'peerHistory',
      queryIds: [],
      recordIds: out.map((r) => `${r.owner}/${r.id}`),
      outcome: 'success',
      reason: withheld.notDisclosable + withheld.restricted + withheld.reviewOverdue > 0 ? `WITHHELD:${withheld.restricted}/${withheld.reviewOverdue}/${withheld.notDisclosable}` : null,
      peerEntryId: peer.callerEntry,
    });
  } catch {
    throw new GraphQLError('The disclosure could not be audited, so nothing was released', { extensions: { code: 'AUDIT_UNAVAILABLE' } });
  }
  peer.entry = { id: `${ctx.forceCode}:${entry.seq}`, hash: entry.hash };
  return { matches: matches.map(({ subjectRef, strength, matchedKinds, conflicts }) => ({ subjectRef, strength, matchedKinds, conflicts })), records: out, withheld };
};
