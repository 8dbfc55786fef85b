/**
 * The federation's GraphQL fields. federatedEpisodes is what an investigator asks of the
 * federation through their own node (FederatedReadService asks the members and audits the read);
 * the peer* fields are what a member may ask this node, through the allow-listed operations only
 * (PeerAnswerService shapes and audits the disclosure). Each resolver guards, parses its input
 * and calls a service.
 */
import { KEY_KIND_STRENGTH, type KeyKind } from '@mcx/linkage';

import type { McxFederatedEpisodeResolvers, QueryResolvers, Resolvers } from '../__generated__/resolver-map-types.js';
import type { McxPeerKeyInput } from '../__generated__/resolvers-types.js';
import { BadUserInputError } from '../errors.js';
import { peerAnswers, type PeerKey } from './peer-answer-service.js';

/** The most keys one request may carry (one identity makes about a dozen, two key versions double it). */
export const MAX_PEER_KEYS = 64;
/** The most pointers one request may ask for. */
const MAX_POINTERS = 50;
/** The most associates one link-count request may ask about. */
const MAX_ASSOCIATES = 50;
/** The most points one locations request may carry. */
const MAX_POINTS = 50;

const VARIANTS = new Set(['dob_swapped', 'sex_expanded']);
const KEY = /^[A-Za-z0-9_-]{16,128}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function badInput(message: string): never {
  throw new BadUserInputError(message);
}

function checkKey(k: McxPeerKeyInput, i: number): PeerKey {
  const base = KEY_KIND_STRENGTH[k.kind as KeyKind];
  if (!base) badInput(`keys.${i}.kind is not a linkage key kind`);
  if (k.variant != null && !VARIANTS.has(k.variant)) badInput(`keys.${i}.variant is unknown`);
  // A variant (a swapped day and month, a guessed sex) is only ever fuzzy.
  const strength = k.variant != null ? 'fuzzy' : base;
  if (k.strength !== strength) badInput(`keys.${i}.strength does not match its kind`);
  if (!KEY.test(k.key) || !VERSION.test(k.keyVersion)) badInput(`keys.${i} is not a linkage key`);
  const variant = k.variant ? { variant: k.variant as 'dob_swapped' | 'sex_expanded' } : {};
  return { kind: k.kind as KeyKind, strength, keyVersion: k.keyVersion, key: k.key, ...variant };
}

export function checkKeys(keys: readonly McxPeerKeyInput[]): PeerKey[] {
  if (keys.length === 0 || keys.length > MAX_PEER_KEYS) badInput(`keys must hold 1 to ${MAX_PEER_KEYS} linkage keys`);
  return keys.map(checkKey);
}

const federatedEpisodes: NonNullable<QueryResolvers['federatedEpisodes']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('federatedEpisodes');
  const answer = await ctx.services.federatedReads.history(read, 'federatedEpisodes', identity);
  const newestFirst = (a: { episode: { record: { facts: { reportedAt: string } } } }, b: typeof a) =>
    b.episode.record.facts.reportedAt.localeCompare(a.episode.record.facts.reportedAt);
  return {
    strong: answer.episodes.filter((e) => e.match.strength === 'STRONG').sort(newestFirst),
    possible: answer.episodes.filter((e) => e.match.strength === 'POSSIBLE').sort(newestFirst),
    associates: answer.associates,
    federation: { completeness: answer.completeness, members: answer.members, cuts: [] },
  };
};

const peerHistory: NonNullable<QueryResolvers['peerHistory']> = async (_, { keys }, ctx) => {
  const read = await ctx.access.requirePeer('peerHistory');
  return peerAnswers(ctx).history(read, checkKeys(keys));
};

const peerAssociatePointers: NonNullable<QueryResolvers['peerAssociatePointers']> = async (_, { ids, exclude }, ctx) => {
  const read = await ctx.access.requirePeer('peerAssociatePointers');
  if (ids.length === 0 || ids.length > MAX_POINTERS || !ids.every((id) => UUID.test(id)))
    badInput(`ids must hold 1 to ${MAX_POINTERS} associate ids`);
  return peerAnswers(ctx).pointers(read, ids, exclude.length ? checkKeys(exclude) : []);
};

const peerAssociateLinks: NonNullable<QueryResolvers['peerAssociateLinks']> = async (_, { associates, exclude }, ctx) => {
  if (associates.length === 0 || associates.length > MAX_ASSOCIATES) badInput(`associates must hold 1 to ${MAX_ASSOCIATES} associates`);
  const read = await ctx.access.requireOwnerPeer(
    'peerAssociateLinks',
    associates.map((a) => a.owner),
  );
  const excludeKeys = exclude.length ? checkKeys(exclude) : [];
  const asked = associates.map((a) => ({ owner: a.owner, id: a.id, keys: checkKeys(a.keys) }));
  return peerAnswers(ctx).associateLinks(read, asked, excludeKeys);
};

const peerLocations: NonNullable<QueryResolvers['peerLocations']> = async (_, { near, concerns }, ctx) => {
  const read = await ctx.access.requirePeer('peerLocations');
  if (near.length === 0 || near.length > MAX_POINTS) badInput(`near must hold 1 to ${MAX_POINTS} points`);
  for (const [i, n] of near.entries()) {
    if (!(Math.abs(n.lat) <= 90 && Math.abs(n.lon) <= 180 && n.radiusMetres > 0 && n.radiusMetres <= 50_000))
      badInput(`near.${i} must be a point with a radius up to 50 km`);
  }
  return peerAnswers(ctx).locations(read, near, concerns ?? null);
};

const McxFederatedEpisode: McxFederatedEpisodeResolvers = {
  strength: (m) => m.match.strength,
  matchedKinds: (m) => m.match.matchedKinds,
  conflicts: (m) => m.match.conflicts,
  verification: () => 'VERIFIED',
  episode: (m) => m.episode,
};

/** The federation's resolvers, for the node's resolver map. */
export const resolvers = {
  Query: { federatedEpisodes, peerHistory, peerAssociatePointers, peerAssociateLinks, peerLocations },
  McxFederatedEpisode,
} satisfies Resolvers;
