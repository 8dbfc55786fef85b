import type { McxLocationOfConcernResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { auditedRead } from '../records/audited-read.js';
import { recordFields } from '../records/record-kind.js';
import { locationSpec, type LocationRecord } from './location-spec.js';

export const publishLocationOfConcern: NonNullable<MutationResolvers['publishLocationOfConcern']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishLocationOfConcern');
  const audit = ctx.auditWrite(viewer, 'collection', 'publishLocationOfConcern');
  const { record, errors } = await ctx.services.records.publish(locationSpec, input, { inTx: audit });
  return { locationOfConcern: record, errors };
};

export const publishLocationsOfConcern: NonNullable<MutationResolvers['publishLocationsOfConcern']> = async (_, { inputs }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishLocationsOfConcern');
  const audit = ctx.auditWrite(viewer, 'collection', 'publishLocationsOfConcern');
  const { records, errors } = await ctx.services.records.publishBatch(locationSpec, inputs, { inTx: audit });
  return { locationsOfConcern: records, errors };
};

export const amendLocationOfConcern: NonNullable<MutationResolvers['amendLocationOfConcern']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('amendLocationOfConcern');
  const audit = ctx.auditWrite(viewer, 'alteration', 'amendLocationOfConcern');
  const { record, errors } = await ctx.services.records.publish(locationSpec, input, { mustExist: true, inTx: audit });
  return { locationOfConcern: record, errors };
};

export const localLocationOfConcern: NonNullable<QueryResolvers['localLocationOfConcern']> = (_, { owner, id }, ctx) =>
  auditedRead<LocationRecord>(ctx, 'location_of_concern', 'localLocationOfConcern', owner, id);

export const McxLocationOfConcern: McxLocationOfConcernResolvers = {
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
