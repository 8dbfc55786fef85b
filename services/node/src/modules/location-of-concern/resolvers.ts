import type { McxLocationOfConcernResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import { auditedRead } from '../records/audited-read.js';
import { recordFields } from '../records/record-kind.js';
import type { LocationRecord } from './location-model.js';
import { locationSpec } from './location-spec.js';

const McxLocationOfConcern: McxLocationOfConcernResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => auditedRead<LocationRecord>(ctx, 'location_of_concern', '_entities', ref.owner, ref.id),
  location: (m) => m.record.facts.location,
  placeKind: (m) => m.record.facts.placeKind,
  concerns: (m) => m.record.assessment.concerns,
  firstReportedAt: (m) => m.record.facts.firstReportedAt,
  lastReportedAt: (m) => m.record.facts.lastReportedAt,
  active: (m) => m.record.facts.active,
  grading: (m) => m.record.grading,
};

export const resolvers = {
  Query: {
    localLocationOfConcern: (_, { owner, id }, ctx) =>
      auditedRead<LocationRecord>(ctx, 'location_of_concern', 'localLocationOfConcern', owner, id),
  },
  Mutation: {
    publishLocationOfConcern: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishLocationOfConcern');
      const audit = ctx.auditWrite(viewer, 'collection', 'publishLocationOfConcern');
      const { record, errors } = await ctx.services.records.publish(locationSpec, input, { inTx: audit });
      return { locationOfConcern: record, errors };
    },
    publishLocationsOfConcern: async (_, { inputs }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishLocationsOfConcern');
      const audit = ctx.auditWrite(viewer, 'collection', 'publishLocationsOfConcern');
      const { records, errors } = await ctx.services.records.publishBatch(locationSpec, inputs, { inTx: audit });
      return { locationsOfConcern: records, errors };
    },
    amendLocationOfConcern: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('amendLocationOfConcern');
      const audit = ctx.auditWrite(viewer, 'alteration', 'amendLocationOfConcern');
      const { record, errors } = await ctx.services.records.publish(locationSpec, input, { mustExist: true, inTx: audit });
      return { locationOfConcern: record, errors };
    },
  },
  McxLocationOfConcern,
} satisfies Resolvers;
