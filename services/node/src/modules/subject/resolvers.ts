import { GraphQLError } from 'graphql';

import { McxError } from '@mcx/errors';

import type { McxSubjectInput, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';

/** Linkage service problems are the node's, not the caller's: SERVICE_UNAVAILABLE with a reason. */
export function linkageError(err: unknown): never {
  if (err instanceof McxError && /^LINKAGE_/.test(err.code)) {
    throw new GraphQLError('The linkage service could not be used; nothing was stored or matched', {
      extensions: { code: 'SERVICE_UNAVAILABLE', reason: err.code },
    });
  }
  throw err;
}

async function publish(operation: 'publishSubject' | 'rekeySubject', input: McxSubjectInput, ctx: Context) {
  const viewer = await ctx.access.requireWrite(operation);
  return ctx.services.subjects
    .publish(input, ctx.auditWrite(viewer, operation === 'publishSubject' ? 'collection' : 'alteration', operation))
    .catch(linkageError);
}

export const publishSubject: NonNullable<MutationResolvers['publishSubject']> = (_, { input }, ctx) =>
  publish('publishSubject', input, ctx);

/** Re-keying is a re-send of the identity: the keys of the current key version are replaced or added. */
export const rekeySubject: NonNullable<MutationResolvers['rekeySubject']> = (_, { input }, ctx) => publish('rekeySubject', input, ctx);

export const matchSubjects: NonNullable<QueryResolvers['matchSubjects']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('matchSubjects');
  const result = await ctx.services.subjects.match(identity).catch(linkageError);
  if ('errors' in result) {
    const first = result.errors[0]!;
    throw new GraphQLError(`identity.${first.field.replace(/^identity\.?/, '')}: ${first.message}`, {
      extensions: { code: 'BAD_USER_INPUT', field: first.field, reason: first.code },
    });
  }
  await ctx.auditRead(
    { ...read, linkageDigest: result.digest },
    'matchSubjects',
    [],
    result.matches.map((m) => `${m.owner}/${m.subjectRef}`),
  );
  return result.matches;
};
