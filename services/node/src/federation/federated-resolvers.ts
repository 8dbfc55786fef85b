/**
 * What an investigator asks of the federation through their own node: the resolvers guard,
 * parse and shape the payload; FederatedReadService asks the members and audits each read (the
 * consultation before any member is asked, the receipts, the combination before release).
 */
import type { McxFederatedEpisodeResolvers, QueryResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import { FederatedReadService } from './federated-read-service.js';

/** The federated reads over this process's services (it holds no state of its own). */
export function federatedReads(ctx: Context): FederatedReadService {
  const { federation, audit, subjects } = ctx.services;
  return new FederatedReadService({ forceCode: ctx.forceCode, federation, audit, subjects });
}

export const federatedEpisodes: NonNullable<QueryResolvers['federatedEpisodes']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('federatedEpisodes');
  const answer = await federatedReads(ctx).history(read, 'federatedEpisodes', identity);
  const newestFirst = (a: { episode: { record: { facts: { reportedAt: string } } } }, b: typeof a) =>
    b.episode.record.facts.reportedAt.localeCompare(a.episode.record.facts.reportedAt);
  return {
    strong: answer.episodes.filter((e) => e.match.strength === 'STRONG').sort(newestFirst),
    possible: answer.episodes.filter((e) => e.match.strength === 'POSSIBLE').sort(newestFirst),
    associates: answer.associates,
    federation: { completeness: answer.completeness, members: answer.members, cuts: [] },
  };
};

export const McxFederatedEpisode: McxFederatedEpisodeResolvers = {
  strength: (m) => m.match.strength,
  matchedKinds: (m) => m.match.matchedKinds,
  conflicts: (m) => m.match.conflicts,
  verification: () => 'VERIFIED',
  episode: (m) => m.episode,
};
