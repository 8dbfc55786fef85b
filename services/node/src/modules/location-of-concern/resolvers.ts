import { recordFields } from '../records/record-kind.js';
import type { McxLocationOfConcernResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { locationSpec, type LocationRecord } from './location-spec.js';

export const publishLocationOfConcern: NonNullable<MutationResolvers['publishLocationOfConcern']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.publish(locationSpec, input);
  return { locationOfConcern: record, errors };
};

export const publishLocationsOfConcern: NonNullable<MutationResolvers['publishLocationsOfConcern']> = async (_, { inputs }, ctx) => {
  ctx.access.requireWrite();
  const { records, errors } = await ctx.services.records.publishBatch(locationSpec, inputs);
  return { locationsOfConcern: records, errors };
};

export const amendLocationOfConcern: NonNullable<MutationResolvers['amendLocationOfConcern']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.publish(locationSpec, input, { mustExist: true });
  return { locationOfConcern: record, errors };
};

export const localLocationOfConcern: NonNullable<QueryResolvers['localLocationOfConcern']> = (_, { owner, id }, ctx) => {
  ctx.access.requireRead();
  return ctx.services.records.get<LocationRecord>('location_of_concern', owner, id);
};

export const McxLocationOfConcern: McxLocationOfConcernResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => {
    ctx.access.requireRead();
    return ctx.services.records.get<LocationRecord>('location_of_concern', ref.owner, ref.id);
  },
  location: (m) => m.record.facts.location,
  placeKind: (m) => m.record.facts.placeKind,
  concerns: (m) => m.record.assessment.concerns,
  firstReportedAt: (m) => m.record.facts.firstReportedAt,
  lastReportedAt: (m) => m.record.facts.lastReportedAt,
  active: (m) => m.record.facts.active,
  grading: (m) => m.record.grading,
};
