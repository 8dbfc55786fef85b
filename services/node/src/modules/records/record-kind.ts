import type { McxRecordKind, McxRecordState } from '../../__generated__/resolvers-types.js';
import type { RecordIndex } from './record-store.js';
import type { Checked } from './validation.js';

export const MARKING = 'OFFICIAL-SENSITIVE';

/** Stored kinds, and their GraphQL enum names. */
export const KINDS = { EPISODE: 'episode', ASSOCIATE: 'associate', LOCATION_OF_CONCERN: 'location_of_concern' } as const satisfies Record<McxRecordKind, string>;
export type Kind = (typeof KINDS)[McxRecordKind];

export function kindFromGraphql(kind: McxRecordKind): Kind {
  return KINDS[kind];
}

export function kindToGraphql(kind: string): McxRecordKind {
  const found = (Object.entries(KINDS) as [McxRecordKind, string][]).find(([, v]) => v === kind);
  if (!found) throw new Error(`unknown record kind ${kind}`);
  return found[0];
}

/** What every kind's publisher-controlled content has. */
export interface BaseContent {
  id: string;
  version: number;
  ownerReference: string;
  reviewAt: string;
}

/** The envelope the node adds around content; the whole thing is what gets signed. */
export interface Envelope {
  schema: string;
  kind: Kind;
  owner: string;
  state: 'ACTIVE';
  marking: typeof MARKING;
  publishedAt: string;
}

/** Everything the validators need to know about the world. */
export interface WriteRules {
  now: Date;
  clockSkewSeconds: number;
  forceCode: string;
  /** A police force or local authority code from the reference data. */
  isKnownOrganisation(code: string): boolean;
  isKnownAuthority(code: string): boolean;
}

/** One record kind: how to check its input and which columns to index. */
export interface RecordKindSpec<TInput, TContent extends BaseContent> {
  kind: Kind;
  schema: string;
  check(input: TInput, rules: WriteRules): Checked<TContent>;
  index(content: TContent): Omit<RecordIndex, 'ownerReference' | 'reviewAt'>;
}

/** A record as read back: the parsed record, its exact bytes, signature and current state. */
export interface StoredRecord<T> {
  record: T;
  bytes: string;
  signature: string;
  state: McxRecordState;
}

/** A signed tombstone: what remains of a retracted record. It holds no content. */
export interface Tombstone {
  schema: 'mcx.tombstone/1';
  kind: Kind;
  owner: string;
  id: string;
  version: number;
  state: 'RETRACTED';
  marking: typeof MARKING;
  reason: string;
  publishedAt: string;
}
