import { GraphQLError } from 'graphql';
import { recordFields } from '../records/record-kind.js';
import type { MissingEpisodeResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { InvalidCursorError } from '../records/record-store.js';
import { offeredWithin72Hours } from './episode-spec.js';

const MAX_PAGE = 200;

export const publishEpisode: NonNullable<MutationResolvers['publishEpisode']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.episodes.publish(input);
  return { episode: record, errors };
};

export const publishEpisodes: NonNullable<MutationResolvers['publishEpisodes']> = async (_, { inputs }, ctx) => {
  ctx.access.requireWrite();
  const { records, errors } = await ctx.services.episodes.publishBatch(inputs);
  return { episodes: records, errors };
};

export const amendEpisode: NonNullable<MutationResolvers['amendEpisode']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.episodes.amend(input);
  return { episode: record, errors };
};

export const closeEpisode: NonNullable<MutationResolvers['closeEpisode']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.episodes.close(input);
  return { episode: record, errors };
};

export const localEpisodes: NonNullable<QueryResolvers['localEpisodes']> = async (_, { subjectRef, first, after }, ctx) => {
  ctx.access.requireRead();
  const size = first ?? 50;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  try {
    return await ctx.services.episodes.list({ subjectRef: subjectRef ?? null, first: size, after: after ?? null });
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT' } });
    throw err;
  }
};

export const localEpisode: NonNullable<QueryResolvers['localEpisode']> = (_, { owner, id }, ctx) => {
  ctx.access.requireRead();
  return ctx.services.episodes.get(owner, id);
};

/** Flattens the stored record (facts and assessment kept apart inside it) for GraphQL. */
export const MissingEpisode: MissingEpisodeResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => {
    ctx.access.requireRead();
    return ctx.services.episodes.get(ref.owner, ref.id);
  },
  subjectRef: (m) => m.record.subjectRef,
  status: (m) => m.record.facts.status,
  reportedAt: (m) => m.record.facts.reportedAt,
  lastSeenAt: (m) => m.record.facts.lastSeenAt,
  foundAt: (m) => m.record.facts.foundAt,
  missingFrom: (m) => m.record.facts.missingFrom,
  careStatus: (m) => m.record.facts.careStatus,
  placingAuthority: (m) => m.record.facts.placingAuthority,
  foundPlace: (m) => m.record.facts.foundPlace,
  foundBy: (m) => m.record.facts.foundBy,
  associates: (m) => m.record.facts.associates,
  returnInterview: (m) => {
    const r = m.record.facts.returnInterview;
    return r ? { ...r, offeredWithin72Hours: offeredWithin72Hours(m.record.facts.foundAt, r.offeredAt) } : null;
  },
  grading: (m) => m.record.grading,
  assessment: (m) => m.record.assessment,
};
