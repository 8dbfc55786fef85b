/**
 * What an investigator asks of the federation through their own node. The consultation is
 * audited before any member is asked (its id travels in every node token), the combination
 * of the answers is audited before anything is released, and the members' disclosure receipts
 * are stored beside the consultation they answer.
 */
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import type { McxFederatedEpisodeResolvers, McxChildIdentityInput, QueryResolvers } from '../__generated__/resolvers-types.js';
import { linkageError } from '../modules/subject/resolvers.js';
import type { AuthorisedRead } from '../auth/access.js';
import type { DerivedLinkageKey } from '@mcx/linkage';
import type { FederatedHistory, FederatedLocations, Near } from './federated-read.js';

function audited(err: unknown): never {
  throw new GraphQLError('The read could not be audited, so nothing was released', { extensions: { code: 'AUDIT_UNAVAILABLE', reason: err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : 'AUDIT_UNAVAILABLE' } });
}

/**
 * Asks every member for a child's history by the child's identity: the audited consultation,
 * the fan-out, the stored receipts and the audited combination. Shared by federatedEpisodes and
 * childHistory.
 */
export async function federatedHistory(ctx: Context, read: AuthorisedRead, operation: string, identity: McxChildIdentityInput): Promise<FederatedHistory & { keys: DerivedLinkageKey[] }> {
  const federation = ctx.services.federation;
  if (!federation) throw new GraphQLError('This node is not a member of a federation (no trust manifest is installed)', { extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'NOT_FEDERATED' } });
  const derived = await ctx.services.subjects.queryKeys(identity).catch(linkageError);
  if ('errors' in derived) {
    const first = derived.errors[0]!;
    throw new GraphQLError(`identity.${first.field.replace(/^identity\.?/, '')}: ${first.message}`, { extensions: { code: 'BAD_USER_INPUT', field: first.field, reason: first.code } });
  }
  const { audit, subjects } = ctx.services;
  const digest = subjects.digest(derived.keys);
  const base = { viewer: read.viewer, requestingNode: read.requestingNode, purpose: read.purpose, caseRef: read.caseRef, linkageDigest: digest, operation };
  const consultation = await audit.record({ ...base, action: 'consultation', queryIds: [], recordIds: [], outcome: 'success' }).catch(audited);
  const answer = await federation.history(read, derived.keys, `${ctx.forceCode}:${consultation.seq}`);
  await audit.saveReceipts(answer.receipts, consultation.seq).catch(audited);
  const recordIds = [...answer.episodes.map((e) => `${e.episode.record.owner}/${e.episode.record.id}`), ...answer.associates.map((a) => `${a.record.owner}/${a.record.id}`)];
  // The merge of the members' answers is a combination (DPA 2018 s62): audited before release.
  await audit
    .record({ ...base, action: 'combination', queryIds: answer.members.map((m) => `${m.member}:${m.status}`), recordIds, outcome: 'success', reason: answer.completeness, peerEntryId: `${ctx.forceCode}:${consultation.seq}` })
    .catch(audited);
  return { ...answer, keys: derived.keys };
}

/**
 * Asks the owners of associates that episodes name, but whose pointers no answer carried, for
 * those pointers and their link counts: audited like every federated read.
 */
export async function federatedPointers(ctx: Context, read: AuthorisedRead, operation: string, byOwner: ReadonlyMap<string, readonly string[]>, childKeys: DerivedLinkageKey[]) {
  const federation = ctx.services.federation!;
  const { audit, subjects } = ctx.services;
  const base = { viewer: read.viewer, requestingNode: read.requestingNode, purpose: read.purpose, caseRef: read.caseRef, operation, linkageDigest: subjects.digest(childKeys) };
  const queryIds = [...byOwner].flatMap(([owner, ids]) => ids.map((id) => `${owner}/${id}`));
  const consultation = await audit.record({ ...base, action: 'consultation', queryIds, recordIds: [], outcome: 'success', reason: 'ASSOCIATE_POINTERS' }).catch(audited);
  const answer = await federation.pointers(read, byOwner, childKeys, `${ctx.forceCode}:${consultation.seq}`);
  await audit.saveReceipts(answer.receipts, consultation.seq).catch(audited);
  await audit
    .record({ ...base, action: 'combination', queryIds: answer.members.map((m) => `${m.member}:${m.status}`), recordIds: answer.pointers.map((p) => `${p.record.owner}/${p.record.id}`), outcome: 'success', reason: answer.completeness, peerEntryId: `${ctx.forceCode}:${consultation.seq}` })
    .catch(audited);
  return answer;
}

/**
 * Asks every member for its locations of concern near points: the audited consultation, the
 * fan-out, the stored receipts and the audited combination.
 */
export async function federatedLocations(ctx: Context, read: AuthorisedRead, operation: string, near: Near[], concerns: readonly string[] | null): Promise<FederatedLocations> {
  const federation = ctx.services.federation;
  if (!federation) throw new GraphQLError('This node is not a member of a federation (no trust manifest is installed)', { extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'NOT_FEDERATED' } });
  const { audit } = ctx.services;
  const base = { viewer: read.viewer, requestingNode: read.requestingNode, purpose: read.purpose, caseRef: read.caseRef, operation };
  const consultation = await audit.record({ ...base, action: 'consultation', queryIds: [], recordIds: [], outcome: 'success', reason: 'LOCATIONS_NEAR' }).catch(audited);
  const answer = await federation.locations(read, near, concerns, `${ctx.forceCode}:${consultation.seq}`);
  await audit.saveReceipts(answer.receipts, consultation.seq).catch(audited);
  await audit
    .record({ ...base, action: 'combination', queryIds: answer.members.map((m) => `${m.member}:${m.status}`), recordIds: answer.locations.map((l) => `${l.location.record.owner}/${l.location.record.id}`), outcome: 'success', reason: answer.completeness, peerEntryId: `${ctx.forceCode}:${consultation.seq}` })
    .catch(audited);
  return answer;
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
