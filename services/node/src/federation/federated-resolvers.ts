/**
 * What an investigator asks of the federation through their own node. The consultation is
 * audited before any member is asked (its id travels in every node token), the combination
 * of the answers is audited before anything is released, and the members' disclosure receipts
 * are stored beside the consultation they answer.
 */
import { GraphQLError } from 'graphql';
import { committed, type Context } from '../context.js';
import type { McxFederatedEpisodeResolvers, McxChildIdentityInput, QueryResolvers } from '../__generated__/resolvers-types.js';
import { linkageError } from '../modules/subject/resolvers.js';
import type { AuthorisedRead } from '../auth/access.js';
import type { DerivedLinkageKey } from '@mcx/linkage';
import type { FederatedHistory, FederatedLocations, FederatedOutcome, FederationClient, Near } from './federated-read.js';

/** This node's calling end of the peer protocol; SERVICE_UNAVAILABLE, NOT_FEDERATED without a manifest. */
function federationOf(ctx: Context): FederationClient {
  if (!ctx.services.federation) throw new GraphQLError('This node is not a member of a federation (no trust manifest is installed)', { extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'NOT_FEDERATED' } });
  return ctx.services.federation;
}

/**
 * One federated read, audited at this end: the consultation before any member is asked (its id
 * goes in every node token), the members' receipts stored beside it, and the combination of
 * the answers before anything is released.
 */
async function auditedFanOut<A extends FederatedOutcome>(
  ctx: Context,
  read: AuthorisedRead,
  operation: string,
  query: { queryIds: string[]; linkageDigest: string | null; reason: string | null },
  ask: (federation: FederationClient, callerEntry: string) => Promise<A>,
  released: (answer: A) => string[],
): Promise<A> {
  const federation = federationOf(ctx);
  const { audit } = ctx.services;
  const base = { viewer: read.viewer, requestingNode: read.requestingNode, purpose: read.purpose, caseRef: read.caseRef, linkageDigest: query.linkageDigest, operation };
  const consultation = await committed(() => audit.record({ ...base, action: 'consultation', queryIds: query.queryIds, recordIds: [], outcome: 'success', reason: query.reason }));
  const callerEntry = `${ctx.forceCode}:${consultation.seq}`;
  const answer = await ask(federation, callerEntry);
  await committed(() => audit.saveReceipts(answer.receipts, consultation.seq));
  // The merge of the members' answers is a combination (DPA 2018 s62): audited before release.
  await committed(() =>
    audit.record({ ...base, action: 'combination', queryIds: answer.members.map((m) => `${m.member}:${m.status}`), recordIds: released(answer), outcome: 'success', reason: answer.completeness, peerEntryId: callerEntry }),
  );
  return answer;
}

/** Asks every member for a child's history by the child's identity. Shared by federatedEpisodes and childHistory. */
export async function federatedHistory(ctx: Context, read: AuthorisedRead, operation: string, identity: McxChildIdentityInput): Promise<FederatedHistory & { keys: DerivedLinkageKey[] }> {
  // Refused before the identity is turned into linkage keys.
  federationOf(ctx);
  const derived = await ctx.services.subjects.queryKeys(identity).catch(linkageError);
  if ('errors' in derived) {
    const first = derived.errors[0]!;
    throw new GraphQLError(`identity.${first.field.replace(/^identity\.?/, '')}: ${first.message}`, { extensions: { code: 'BAD_USER_INPUT', field: first.field, reason: first.code } });
  }
  const answer = await auditedFanOut(
    ctx,
    read,
    operation,
    { queryIds: [], linkageDigest: ctx.services.subjects.digest(derived.keys), reason: null },
    (federation, callerEntry) => federation.history(read, derived.keys, callerEntry),
    (a) => [...a.episodes.map((e) => `${e.episode.record.owner}/${e.episode.record.id}`), ...a.associates.map((p) => `${p.record.owner}/${p.record.id}`)],
  );
  return { ...answer, keys: derived.keys };
}

/** Asks the owners of associates that episodes name, but whose pointers no answer carried, for those pointers and their link counts. */
export function federatedPointers(ctx: Context, read: AuthorisedRead, operation: string, byOwner: ReadonlyMap<string, readonly string[]>, childKeys: DerivedLinkageKey[]) {
  return auditedFanOut(
    ctx,
    read,
    operation,
    { queryIds: [...byOwner].flatMap(([owner, ids]) => ids.map((id) => `${owner}/${id}`)), linkageDigest: ctx.services.subjects.digest(childKeys), reason: 'ASSOCIATE_POINTERS' },
    (federation, callerEntry) => federation.pointers(read, byOwner, childKeys, callerEntry),
    (a) => a.pointers.map((p) => `${p.record.owner}/${p.record.id}`),
  );
}

/** Asks every member for its locations of concern near points. */
export function federatedLocations(ctx: Context, read: AuthorisedRead, operation: string, near: Near[], concerns: readonly string[] | null): Promise<FederatedLocations> {
  return auditedFanOut(
    ctx,
    read,
    operation,
    { queryIds: [], linkageDigest: null, reason: 'LOCATIONS_NEAR' },
    (federation, callerEntry) => federation.locations(read, near, concerns, callerEntry),
    (a) => a.locations.map((l) => `${l.location.record.owner}/${l.location.record.id}`),
  );
}

export const federatedEpisodes: NonNullable<QueryResolvers['federatedEpisodes']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('federatedEpisodes');
  const answer = await federatedHistory(ctx, read, 'federatedEpisodes', identity);
  const newestFirst = (a: { episode: { record: { facts: { reportedAt: string } } } }, b: typeof a) => b.episode.record.facts.reportedAt.localeCompare(a.episode.record.facts.reportedAt);
  return {
    strong: answer.episodes.filter((e) => e.match.strength === 'STRONG').sort(newestFirst),
    possible: answer.episodes.filter((e) => e.match.strength === 'POSSIBLE').sort(newestFirst),
    associates: answer.associates,
    federation: { completeness: answer.completeness, members: answer.members },
  };
};

export const McxFederatedEpisode: McxFederatedEpisodeResolvers = {
  strength: (m) => m.match.strength,
  matchedKinds: (m) => m.match.matchedKinds,
  conflicts: (m) => m.match.conflicts,
  verification: () => 'VERIFIED',
  episode: (m) => m.episode,
};
