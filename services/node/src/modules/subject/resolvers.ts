import type { Resolvers } from '../../__generated__/resolver-map-types.js';
import type { McxSubjectInput } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { identityInputError, linkageError } from '../../errors.js';

async function publish(operation: 'publishSubject' | 'rekeySubject', input: McxSubjectInput, ctx: Context) {
  const viewer = await ctx.access.requireWrite(operation);
  return ctx.services.subjects
    .publish(input, ctx.auditWrite(viewer, operation === 'publishSubject' ? 'collection' : 'alteration', operation))
    .catch(linkageError);
}

export const resolvers = {
  Query: {
    matchSubjects: async (_, { identity }, ctx) => {
      const read = await ctx.access.requireRead('matchSubjects');
      const result = await ctx.services.subjects.match(identity).catch(linkageError);
      if ('errors' in result) throw identityInputError(result.errors);
      const matched = result.matches.map((m) => `${m.owner}/${m.subjectRef}`);
      await ctx.auditRead({ ...read, linkageDigest: result.digest }, 'matchSubjects', [], matched);
      return result.matches;
    },
  },
  Mutation: {
    publishSubject: (_, { input }, ctx) => publish('publishSubject', input, ctx),
    /** Re-keying is a re-send of the identity: the keys of the current key version are replaced or added. */
    rekeySubject: (_, { input }, ctx) => publish('rekeySubject', input, ctx),
  },
} satisfies Resolvers;
