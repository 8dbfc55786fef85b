import type { McxRecordState, McxRestrictionReason, MutationResolvers } from '../../__generated__/resolvers-types.js';
import { kindFromGraphql, kindToGraphql } from './record-kind.js';

function ref(r: { kind: string; id: string; version: number; state: string; bytes: string; signature: string; restrictionReason?: string | null }, owner: string) {
  return {
    kind: kindToGraphql(r.kind),
    owner,
    id: r.id,
    version: r.version,
    state: r.state as McxRecordState,
    restrictionReason: (r.restrictionReason ?? null) as McxRestrictionReason | null,
    recordBytes: r.bytes,
    recordSignature: r.signature,
  };
}

export const restrictRecord: NonNullable<MutationResolvers['restrictRecord']> = async (_, { kind, id, reason }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.setRestricted(kindFromGraphql(kind), id, true, reason);
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

export const unrestrictRecord: NonNullable<MutationResolvers['unrestrictRecord']> = async (_, { kind, id }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.setRestricted(kindFromGraphql(kind), id, false);
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

export const retractRecord: NonNullable<MutationResolvers['retractRecord']> = async (_, { kind, id, version, reason }, ctx) => {
  ctx.access.requireWrite();
  const { record, errors } = await ctx.services.records.retract(kindFromGraphql(kind), id, version, reason);
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};
