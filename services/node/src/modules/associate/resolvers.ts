import { recordFields } from '../records/record-kind.js';
import type { McxAssociateResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { associateSpec, type AssociateRecord } from './associate-spec.js';

export const publishAssociate: NonNullable<MutationResolvers['publishAssociate']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.publish(associateSpec, input);
  return { associate: record, errors };
};

export const publishAssociates: NonNullable<MutationResolvers['publishAssociates']> = async (_, { inputs }, ctx) => {
  ctx.access.requireWrite();
  const { records, errors } = await ctx.services.records.publishBatch(associateSpec, inputs);
  return { associates: records, errors };
};

export const amendAssociate: NonNullable<MutationResolvers['amendAssociate']> = async (_, { input }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.publish(associateSpec, input, { mustExist: true });
  return { associate: record, errors };
};

export const localAssociate: NonNullable<QueryResolvers['localAssociate']> = (_, { owner, id }, ctx) => {
  ctx.access.requireRead();
  return ctx.services.records.get<AssociateRecord>('associate', owner, id);
};

export const McxAssociate: McxAssociateResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => {
    ctx.access.requireRead();
    return ctx.services.records.get<AssociateRecord>('associate', ref.owner, ref.id);
  },
  descriptors: (m) => m.record.descriptors,
  flags: (m) => m.record.assessment.flags,
  grading: (m) => m.record.grading,
};
