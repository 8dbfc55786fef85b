import type { MissingEpisodeResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import { BadUserInputError, toGraphQLError } from '../../errors.js';
import type { DisclosureNote } from '../associate/associate-model.js';
import { auditedRead } from '../records/audited-read.js';
import { recordFields } from '../records/record-kind.js';
import type { EpisodeRecord } from './episode-model.js';
import { offeredWithin72Hours } from './episode-rules.js';

const MAX_PAGE = 200;

/** Flattens the stored record (facts and assessment kept apart inside it) for GraphQL. */
const MissingEpisode: MissingEpisodeResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => auditedRead<EpisodeRecord>(ctx, 'episode', '_entities', ref.owner, ref.id),
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
  disclosure: (m) => (m.record as EpisodeRecord & { disclosure?: DisclosureNote }).disclosure ?? null,
};

export const resolvers = {
  Query: {
    localEpisodes: async (_, { subjectRef, first, after }, ctx) => {
      const read = await ctx.access.requireRead('localEpisodes');
      const size = first ?? 50;
      if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE}`);
      const page = { subjectRef: subjectRef ?? null, first: size, after: after ?? null };
      return ctx.services.episodes.list(read, page).catch(toGraphQLError);
    },
    localEpisode: (_, { owner, id }, ctx) => auditedRead<EpisodeRecord>(ctx, 'episode', 'localEpisode', owner, id),
  },
  Mutation: {
    publishEpisode: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishEpisode');
      const { record, errors } = await ctx.services.episodes.publish(input, ctx.auditWrite(viewer, 'collection', 'publishEpisode'));
      return { episode: record, errors };
    },
    publishEpisodes: async (_, { inputs }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishEpisodes');
      const { records, errors } = await ctx.services.episodes.publishBatch(inputs, ctx.auditWrite(viewer, 'collection', 'publishEpisodes'));
      return { episodes: records, errors };
    },
    amendEpisode: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('amendEpisode');
      const { record, errors } = await ctx.services.episodes.amend(input, ctx.auditWrite(viewer, 'alteration', 'amendEpisode'));
      return { episode: record, errors };
    },
    closeEpisode: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('closeEpisode');
      const { record, errors } = await ctx.services.episodes.close(input, ctx.auditWrite(viewer, 'alteration', 'closeEpisode'));
      return { episode: record, errors };
    },
  },
  MissingEpisode,
} satisfies Resolvers;
