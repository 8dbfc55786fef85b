import { recordFields } from '../records/record-kind.js';
import { auditedRead } from '../records/audited-read.js';
import type { McxAssociateResolvers, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import { associateSpec, type AssociateRecord } from './associate-spec.js';
import { associateKeyWriters } from './associate-identity.js';

export const publishAssociate: NonNullable<MutationResolvers['publishAssociate']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishAssociate');
  const keys = await associateKeyWriters(ctx, [input], false);
  if (keys.errors.length > 0) return { associate: null, errors: keys.errors };
  const audit = keys.write(ctx.auditWrite(viewer, 'collection', 'publishAssociate'));
  const { record, errors } = await ctx.services.records.publish(associateSpec, input, { inTx: audit });
  return { associate: record, errors };
};

export const publishAssociates: NonNullable<MutationResolvers['publishAssociates']> = async (_, { inputs }, ctx) => {
  const viewer = await ctx.access.requireWrite('publishAssociates');
  const keys = await associateKeyWriters(ctx, inputs, true);
  if (keys.errors.length > 0) return { associates: [], errors: keys.errors };
  const audit = keys.write(ctx.auditWrite(viewer, 'collection', 'publishAssociates'));
  const { records, errors } = await ctx.services.records.publishBatch(associateSpec, inputs, { inTx: audit });
  return { associates: records, errors };
};

export const amendAssociate: NonNullable<MutationResolvers['amendAssociate']> = async (_, { input }, ctx) => {
  const viewer = await ctx.access.requireWrite('amendAssociate');
  const keys = await associateKeyWriters(ctx, [input], false);
  if (keys.errors.length > 0) return { associate: null, errors: keys.errors };
  const audit = keys.write(ctx.auditWrite(viewer, 'alteration', 'amendAssociate'));
  const { record, errors } = await ctx.services.records.publish(associateSpec, input, { mustExist: true, inTx: audit });
  return { associate: record, errors };
};

export const localAssociate: NonNullable<QueryResolvers['localAssociate']> = (_, { owner, id }, ctx) => auditedRead<AssociateRecord>(ctx, 'associate', 'localAssociate', owner, id);

export const McxAssociate: McxAssociateResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) => auditedRead<AssociateRecord>(ctx, 'associate', '_entities', ref.owner, ref.id),
  descriptors: (m) => m.record.descriptors,
  flags: (m) => m.record.assessment.flags,
  grading: (m) => m.record.grading,
};
