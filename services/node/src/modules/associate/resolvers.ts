import type { McxAssociatePointerResolvers, McxAssociateResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { refusalError } from '../../errors.js';
import { discloseAssociate } from '../disclosure/disclose.js';
import { notDisclosable, type Shaped } from '../disclosure/shape-by-policy.js';
import { auditedRead } from '../records/audited-read.js';
import { recordFields, type StoredRecord } from '../records/record-kind.js';
import { associateKeyWriters } from './associate-identity.js';
import type { AssociateModel, AssociatePointerModel, AssociateRecord } from './associate-model.js';
import { associateSpec } from './associate-spec.js';

const POINTER_ONLY = notDisclosable('POINTER_ONLY');

/**
 * The whole associate record, for its owner's own readers only: anyone else gets the pointer
 * (associatePointer), and a whole-record read by them is withheld as POINTER_ONLY.
 */
function wholeForOwner(ctx: Context, read: AuthorisedRead, stored: StoredRecord<AssociateRecord>): Shaped<AssociateModel> {
  const d = discloseAssociate(ctx.services.disclosure, read.requester, stored);
  if (d.outcome === 'withheld') return { withheld: notDisclosable(d.rule) };
  if (d.outcome === 'pointer') return { withheld: POINTER_ONLY };
  return { released: d.record };
}

/** What another force may know of an associate held here (the owner's own readers get the same). */
function asPointer(ctx: Context, read: AuthorisedRead, stored: StoredRecord<AssociateRecord>): Shaped<AssociatePointerModel> {
  const d = discloseAssociate(ctx.services.disclosure, read.requester, stored, { asPointer: true });
  if (d.outcome === 'withheld') return { withheld: notDisclosable(d.rule) };
  return d.outcome === 'pointer' ? { released: d.pointer } : { withheld: POINTER_ONLY };
}

/**
 * A published or amended associate's links are counted again in the background (its keys may
 * have changed); the write never waits for it, and a failure to schedule it is only logged (the
 * daily recount catches up).
 */
async function recountLinks(ctx: Context, ids: string[]): Promise<void> {
  await ctx.services.linkCounts.touched(ids).catch((err: unknown) => ctx.logger.warn({ err }, 'link count recount not scheduled'));
}

const McxAssociate: McxAssociateResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) =>
    auditedRead<AssociateRecord, AssociateModel>(ctx, 'associate', '_entities', ref.owner, ref.id, (read, stored) =>
      wholeForOwner(ctx, read, stored),
    ),
  descriptors: (m) => m.record.descriptors,
  flags: (m) => m.record.assessment.flags,
  grading: (m) => m.record.grading,
};

const McxAssociatePointer: McxAssociatePointerResolvers = {
  owner: (m) => m.record.owner,
  id: (m) => m.record.id,
  version: (m) => m.record.version,
  kind: (m) => m.record.pointer,
  ownerReference: (m) => m.record.ownerReference,
  grading: (m) => m.record.grading,
  flags: (m) => m.record.flags as never,
  contact: (m) => m.record.contact,
  recordBytes: (m) => m.bytes,
  recordSignature: (m) => m.signature,
};

export const resolvers = {
  Query: {
    localAssociate: (_, { owner, id }, ctx) =>
      auditedRead<AssociateRecord, AssociateModel>(ctx, 'associate', 'localAssociate', owner, id, (read, stored) =>
        wholeForOwner(ctx, read, stored),
      ),
    associatePointer: (_, { owner, id }, ctx) =>
      auditedRead<AssociateRecord, AssociatePointerModel>(ctx, 'associate', 'associatePointer', owner, id, (read, stored) =>
        asPointer(ctx, read, stored),
      ),
  },
  Mutation: {
    publishAssociate: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishAssociate');
      const keys = await associateKeyWriters(ctx, [input], false);
      if (keys.errors.length > 0) return { associate: null, errors: keys.errors };
      const audit = keys.write(ctx.auditWrite(viewer, 'collection', 'publishAssociate'));
      const { record, errors } = await ctx.services.records.publish(associateSpec, input, { inTx: audit });
      await recountLinks(ctx, record ? [record.record.id] : []);
      return { associate: record, errors };
    },
    publishAssociates: async (_, { inputs }, ctx) => {
      const viewer = await ctx.access.requireWrite('publishAssociates');
      const keys = await associateKeyWriters(ctx, inputs, true);
      if (keys.errors.length > 0) return { associates: [], errors: keys.errors };
      const audit = keys.write(ctx.auditWrite(viewer, 'collection', 'publishAssociates'));
      const { records, errors } = await ctx.services.records.publishBatch(associateSpec, inputs, { inTx: audit });
      await recountLinks(
        ctx,
        records.map((r) => r.record.id),
      );
      return { associates: records, errors };
    },
    amendAssociate: async (_, { input }, ctx) => {
      const viewer = await ctx.access.requireWrite('amendAssociate');
      const keys = await associateKeyWriters(ctx, [input], false);
      if (keys.errors.length > 0) return { associate: null, errors: keys.errors };
      const audit = keys.write(ctx.auditWrite(viewer, 'alteration', 'amendAssociate'));
      const { record, errors } = await ctx.services.records.publish(associateSpec, input, { mustExist: true, inTx: audit });
      await recountLinks(ctx, record ? [record.record.id] : []);
      return { associate: record, errors };
    },
    /** An associate's name, from the owner's records system (AssociateDetailsService: policy, audit, then release). */
    requestAssociateDetails: async (_, { owner, id }, ctx) => {
      const read = await ctx.access.requireRead('requestAssociateDetails');
      const answer = await ctx.services.associateDetails.request(read, owner, id);
      if ('refusal' in answer) throw refusalError(answer.refusal);
      return { owner, id, givenName: answer.name.givenName, familyName: answer.name.familyName };
    },
  },
  McxAssociate,
  McxAssociatePointer,
} satisfies Resolvers;
