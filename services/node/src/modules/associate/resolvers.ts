import { GraphQLError } from 'graphql';

import { McxError } from '@mcx/errors';

import type {
  McxAssociatePointerResolvers,
  McxAssociateResolvers,
  MutationResolvers,
  QueryResolvers,
} from '../../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { discloseAssociate, type AssociatePointerModel } from '../disclosure/disclose.js';
import { associateDetailsRefusal, withholdingRule } from '../disclosure/policy.js';
import { auditedRead, type Shaped } from '../records/audited-read.js';
import { recordFields, type StoredRecord } from '../records/record-kind.js';
import { associateKeyWriters } from './associate-identity.js';
import { associateSpec, type AssociateModel, type AssociateRecord } from './associate-spec.js';

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

/**
 * The whole associate record, for its owner's own readers only: anyone else gets the pointer
 * (associatePointer), and a whole-record read by them is withheld as POINTER_ONLY.
 */
function wholeForOwner(ctx: Context, read: AuthorisedRead, stored: StoredRecord<AssociateRecord>): Shaped<AssociateModel> {
  const d = discloseAssociate(ctx.services.disclosure, read.requester, stored);
  if (d.outcome === 'withheld') return { withheld: `NOT_DISCLOSABLE:${d.rule}` };
  if (d.outcome === 'pointer') return { withheld: 'NOT_DISCLOSABLE:POINTER_ONLY' };
  return { released: d.record };
}

export const localAssociate: NonNullable<QueryResolvers['localAssociate']> = (_, { owner, id }, ctx) =>
  auditedRead<AssociateRecord, AssociateModel>(ctx, 'associate', 'localAssociate', owner, id, (read, stored) =>
    wholeForOwner(ctx, read, stored),
  );

/** An associate held here, as a pointer: what another force may know of it (the owner's own readers get the same). */
export const associatePointer: NonNullable<QueryResolvers['associatePointer']> = (_, { owner, id }, ctx) =>
  auditedRead<AssociateRecord, AssociatePointerModel>(ctx, 'associate', 'associatePointer', owner, id, (read, stored) => {
    const d = discloseAssociate(ctx.services.disclosure, read.requester, stored, { asPointer: true });
    if (d.outcome === 'withheld') return { withheld: `NOT_DISCLOSABLE:${d.rule}` };
    return d.outcome === 'pointer' ? { released: d.pointer } : { withheld: 'NOT_DISCLOSABLE:POINTER_ONLY' };
  });

/**
 * An associate's name, from the owner's records system: police only, handling P, never grade
 * E, with purpose and case reference. Refusals and releases are each audited as a disclosure;
 * the name is released only after its entry has committed, and is never stored or logged.
 */
export const requestAssociateDetails: NonNullable<MutationResolvers['requestAssociateDetails']> = async (_, { owner, id }, ctx) => {
  const read = await ctx.access.requireRead('requestAssociateDetails');
  const key = `${owner}/${id}`;
  const refuse = async (
    code: 'FORBIDDEN' | 'NOT_FOUND' | 'SERVICE_UNAVAILABLE',
    reason: string,
    message: string,
    outcome: 'refused' | 'error' = 'refused',
  ): Promise<never> => {
    await ctx.auditDisclosure(read, 'requestAssociateDetails', key, outcome, reason);
    throw new GraphQLError(message, { extensions: { code, reason } });
  };
  // A name never travels between nodes: another force's associate is asked of that force directly.
  if (owner !== ctx.forceCode) {
    const contact = ctx.services.disclosure.contactOf(owner);
    return refuse(
      'NOT_FOUND',
      'DETAILS_OWNER_REMOTE',
      `Names are released only by the owner's own node, never between nodes: ask ${owner}${contact ? ` (24/7 ${contact})` : ''}`,
    );
  }
  const { record, withheld } = await ctx.services.records.read<AssociateRecord>('associate', owner, id);
  if (!record) return refuse('NOT_FOUND', withheld ?? 'NOT_FOUND', 'No readable associate with this id is held here');
  const rule = withholdingRule(ctx.services.disclosure.policy, read.requester, {
    kind: 'associate',
    owner,
    grading: record.record.grading,
  });
  const refusal = rule
    ? `NOT_DISCLOSABLE:${rule}`
    : associateDetailsRefusal(ctx.services.disclosure.policy, read.requester, record.record.grading);
  if (refusal)
    return refuse('FORBIDDEN', refusal, "The owner's disclosure policy does not release this associate's name to this requester");
  const source = ctx.services.associateDetails;
  if (!source)
    return refuse(
      'SERVICE_UNAVAILABLE',
      'DETAILS_SOURCE_NOT_CONFIGURED',
      "This node is not connected to its force's records system for associate details",
      'error',
    );
  let name;
  try {
    name = await source.fetch({ associateId: id, ownerReference: record.record.ownerReference });
  } catch (err) {
    const reason = err instanceof McxError ? err.code : 'DETAILS_SOURCE_UNAVAILABLE';
    return refuse(
      reason === 'DETAILS_NOT_HELD' ? 'NOT_FOUND' : 'SERVICE_UNAVAILABLE',
      reason,
      err instanceof McxError ? err.message : "The force's records system did not answer",
      'error',
    );
  }
  await ctx.auditDisclosure(read, 'requestAssociateDetails', key, 'success', 'ASSOCIATE_NAME_RELEASED');
  return { owner, id, givenName: name.givenName, familyName: name.familyName };
};

export const McxAssociate: McxAssociateResolvers = {
  ...recordFields,
  __resolveReference: (ref, ctx) =>
    auditedRead<AssociateRecord, AssociateModel>(ctx, 'associate', '_entities', ref.owner, ref.id, (read, stored) =>
      wholeForOwner(ctx, read, stored),
    ),
  descriptors: (m) => m.record.descriptors,
  flags: (m) => m.record.assessment.flags,
  grading: (m) => m.record.grading,
};

export const McxAssociatePointer: McxAssociatePointerResolvers = {
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
