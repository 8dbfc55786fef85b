import { GraphQLError } from 'graphql';

import type { MissingEpisodeResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import type { DisclosureNote } from '../disclosure/disclose.js';
import { withholdingRule } from '../disclosure/policy.js';
import { auditedRead, byPolicy } from '../records/audited-read.js';
import { recordFields } from '../records/record-kind.js';
import { InvalidCursorError } from '../records/record-store.js';
import type { EpisodeRecord } from './episode-model.js';
import { offeredWithin72Hours } from './episode-spec.js';

const MAX_PAGE = 200;
const key = (r: { record: { owner: string; id: string } }) => `${r.record.owner}/${r.record.id}`;

export const publishEpisode: NonNullable<MutationResolvers['publishEpisode']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishEpisode');
  const { record, errors } = await ctx.services.episodes.publish(input, ctx.auditWrite(viewer, 'collection', 'publishEpisode'));
  return { episode: record, errors };
};

export const publishEpisodes: NonNullable<MutationResolvers['publishEpisodes']> = async (_, { inputs }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishEpisodes');
  const { records, errors } = await ctx.services.episodes.publishBatch(inputs, ctx.auditWrite(viewer, 'collection', 'publishEpisodes'));
  return { episodes: records, errors };
};

export const amendEpisode: NonNullable<MutationResolvers['amendEpisode']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('amendEpisode');
  const { record, errors } = await ctx.services.episodes.amend(input, ctx.auditWrite(viewer, 'alteration', 'amendEpisode'));
  return { episode: record, errors };
};

export const closeEpisode: NonNullable<MutationResolvers['closeEpisode']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('closeEpisode');
  const { record, errors } = await ctx.services.episodes.close(input, ctx.auditWrite(viewer, 'alteration', 'closeEpisode'));
  return { episode: record, errors };
};

export const localEpisodes: NonNullable<QueryResolvers['localEpisodes']> = async (_, { subjectRef, first, after }, ctx) => {
  const read = await ctx.access.requireRead('localEpisodes');
  const size = first ?? 50;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  let page;
  try {
    page = await ctx.services.episodes.list({ subjectRef: subjectRef ?? null, first: size, after: after ?? null });
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT' } });
    throw err;
  }
  // The owner's policy on every record of the page; what it withholds is counted across all
  // pages from the gradings of the readable records.
  const shaped = page.nodes.map((n) => byPolicy(ctx, read.requester, n));
  const nodes = shaped.flatMap((s) => ('released' in s ? [s.released] : []));
  const policy = ctx.services.disclosure.policy;
  const notDisclosable = page.gradings.reduce(
    (sum, g) =>
      sum + (withholdingRule(policy, read.requester, { kind: 'episode', owner: ctx.forceCode, grading: g.grading }) ? g.count : 0),
    0,
  );
  const withheldHere = shaped.some((s) => 'withheld' in s);
  const reason =
    [withheldHere ? 'NOT_DISCLOSABLE' : null, page.withheld.integrityFault > 0 ? 'INTEGRITY_FAULT' : null].filter(Boolean).join(',') ||
    null;
  await ctx.auditRead(read, 'localEpisodes', [], nodes.map(key), reason);
  return { nodes, nextCursor: page.nextCursor, withheld: { ...page.withheld, notDisclosable } };
};

export const localEpisode: NonNullable<QueryResolvers['localEpisode']> = (_, { owner, id }, ctx) =>
  auditedRead<EpisodeRecord>(ctx, 'episode', 'localEpisode', owner, id);

/** Flattens the stored record (facts and assessment kept apart inside it) for GraphQL. */
export const MissingEpisode: MissingEpisodeResolvers = {
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
