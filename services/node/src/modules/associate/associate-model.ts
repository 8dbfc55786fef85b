import type { McxAgeBand, McxAssociateFlag, McxSex } from '../../__generated__/resolvers-types.js';
import type { Grading } from '../records/grading.js';
import type { BaseContent, Envelope, StoredRecord } from '../records/record-kind.js';

export const ASSOCIATE_SCHEMA = 'mcx.associate/1';

/** The note a disclosed view (an associate pointer, an episode) carries inside its signed bytes. */
export interface DisclosureNote {
  /** The policy version that shaped this view. */
  policy: string;
  /**
   * Paths the policy withholds from this requester (a list filtered, or a field emptied),
   * named whether or not a value was there, so the note reveals nothing of what it hides.
   */
  redacted: string[];
  /** Paths the policy makes coarser for this requester (a placement's address to its postcode district). */
  coarsened: string[];
}

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

/** An associate as another force sees it: a pointer, never a name, never descriptors. */
export interface AssociatePointerRecord {
  schema: 'mcx.associate-pointer/1';
  kind: 'associate';
  owner: string;
  id: string;
  version: number;
  marking: string;
  /** CHILD: "peer also missing, held by force X"; ADULT_OF_CONCERN or ADULT: owner, grade, flags, contact, reference. */
  pointer: 'CHILD' | 'ADULT_OF_CONCERN' | 'ADULT';
  /** Null for a child. */
  ownerReference: string | null;
  /** Null for a child. */
  grading: Grading | null;
  flags: string[];
  /** The owner's 24/7 contact point, from the trust manifest; null when not federated. */
  contact: string | null;
  disclosure: DisclosureNote;
}

/** What the GraphQL layer resolves McxAssociatePointer from: the pointer as signed for its reader. */
export type AssociatePointerModel = StoredRecord<AssociatePointerRecord>;
