import type { MutationResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import type { McxRecordState, McxRestrictionReason } from '../../__generated__/resolvers-types.js';
import { kindFromGraphql, kindToGraphql } from './record-kind.js';

function ref(
  r: { kind: string; id: string; version: number; state: string; bytes: string; signature: string; restrictionReason?: string | null },
  owner: string,
) {
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

const restrictRecord: NonNullable<MutationResolvers['restrictRecord']> = async (_, { kind, id, reason }, ctx) => {
  const viewer = await ctx.access.requireWrite('restrictRecord');
  const { record, errors } = await ctx.services.records.setRestricted(
    kindFromGraphql(kind),
    id,
    true,
    reason,
    ctx.auditWrite(viewer, 'alteration', 'restrictRecord'),
  );
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

const unrestrictRecord: NonNullable<MutationResolvers['unrestrictRecord']> = async (_, { kind, id }, ctx) => {
  const viewer = await ctx.access.requireWrite('unrestrictRecord');
  const { record, errors } = await ctx.services.records.setRestricted(
    kindFromGraphql(kind),
    id,
    false,
    undefined,
    ctx.auditWrite(viewer, 'alteration', 'unrestrictRecord'),
  );
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

const retractRecord: NonNullable<MutationResolvers['retractRecord']> = async (_, { kind, id, version, reason }, ctx) => {
  const viewer = await ctx.access.requireWrite('retractRecord');
  const audit = ctx.auditWrite(viewer, 'alteration', 'retractRecord');
  // A retracted associate keeps no linkage keys: they are erased with the tombstone, in one transaction.
  const inTx: typeof audit =
    kind === 'ASSOCIATE'
      ? async (tx, stored) => {
          await audit(tx, stored);
          await ctx.services.subjects.associateKeysEraser(id.toLowerCase())(tx, stored);
        }
      : audit;
  const { record, errors } = await ctx.services.records.retract(kindFromGraphql(kind), id, version, reason, inTx);
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

const reviewRecord: NonNullable<MutationResolvers['reviewRecord']> = async (_, { kind, id, version, reviewAt }, ctx) => {
  const viewer = await ctx.access.requireWrite('reviewRecord');
  const { record, errors } = await ctx.services.records.review(
    kindFromGraphql(kind),
    id,
    version,
    reviewAt,
    ctx.auditWrite(viewer, 'alteration', 'reviewRecord'),
  );
  return { record: record ? ref(record, ctx.forceCode) : null, errors };
};

export const resolvers = { Mutation: { restrictRecord, unrestrictRecord, retractRecord, reviewRecord } } satisfies Resolvers;
