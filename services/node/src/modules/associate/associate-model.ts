import type { McxAgeBand, McxAssociateFlag, McxSex } from '../../__generated__/resolvers-types.js';
import type { Grading } from '../records/grading.js';
import type { BaseContent, Envelope, StoredRecord } from '../records/record-kind.js';

export const ASSOCIATE_SCHEMA = 'mcx.associate/1';

/** Descriptors are facts as recorded; flags are the owner's assessment (DPA s38(2)). */
export interface AssociateContent extends BaseContent {
  descriptors: { isChild: boolean; ageBand: McxAgeBand; sex: McxSex };
  assessment: { flags: McxAssociateFlag[] };
  grading: Grading;
}

/** An associate record exactly as signed and stored. */
export type AssociateRecord = AssociateContent & Envelope;

/** What the GraphQL layer resolves McxAssociate from. */
export type AssociateModel = StoredRecord<AssociateRecord>;
