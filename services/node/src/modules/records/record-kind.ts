import type { McxRecordKind, McxRecordState } from '../../__generated__/resolvers-types.js';
import type { RecordIndex } from './record-store-model.js';
import type { Checked, InputChecker } from './validation.js';

export const MARKING = 'OFFICIAL-SENSITIVE';

/** Stored kinds, and their GraphQL enum names. */
export const KINDS = { EPISODE: 'episode', ASSOCIATE: 'associate', LOCATION_OF_CONCERN: 'location_of_concern' } as const satisfies Record<
  McxRecordKind,
  string
>;
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
  /** Retention period by kind, in days: the default review date when a publisher sends none. */
  reviewDays: Record<Kind, number>;
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

/**
 * Reads the fields every record kind shares: id, version, owner reference and review date.
 * Returns null when any of them is wrong (the errors are in `c`).
 */
export function checkBase(
  c: InputChecker,
  input: { id?: string | null; version?: number | null; ownerReference?: string | null; reviewAt?: string | null },
  rules: WriteRules,
  retention: { kind: Kind; from: string | null | undefined; fromField: string } | null = null,
): BaseContent | null {
  const id = c.uuid('id', input.id);
  const version = c.version('version', input.version);
  const ownerReference = c.reference('ownerReference', input.ownerReference, { required: true, max: 40 });
  // No review date sent: the kind's retention period from the record's own date, so a retry on
  // another day computes the same date (and stays idempotent).
  const from = retention?.from ? Date.parse(retention.from) : NaN;
  const defaulted = input.reviewAt == null && retention && !Number.isNaN(from);
  const reviewAt = defaulted
    ? new Date(from + rules.reviewDays[retention.kind] * 86_400_000).toISOString().slice(0, 10)
    : c.date('reviewAt', input.reviewAt, { required: true });
  if (reviewAt && reviewAt < rules.now.toISOString().slice(0, 10)) {
    c.fail(
      'reviewAt',
      'OUT_OF_RANGE',
      defaulted
        ? `the default review date (${retention!.fromField} + ${rules.reviewDays[retention!.kind]} days) is in the past; send reviewAt`
        : 'reviewAt is in the past',
    );
    return null;
  }
  return id && version && ownerReference && reviewAt ? { id, version, ownerReference, reviewAt } : null;
}

/** Field resolvers every record type shares: the envelope, the state, the bytes and signature. */
export const recordFields = {
  owner: (m: StoredRecord<BaseContent & Envelope>) => m.record.owner,
  id: (m: StoredRecord<BaseContent & Envelope>) => m.record.id,
  version: (m: StoredRecord<BaseContent & Envelope>) => m.record.version,
  publishedAt: (m: StoredRecord<BaseContent & Envelope>) => m.record.publishedAt,
  ownerReference: (m: StoredRecord<BaseContent & Envelope>) => m.record.ownerReference,
  state: (m: StoredRecord<BaseContent & Envelope>) => m.state,
  marking: (m: StoredRecord<BaseContent & Envelope>) => m.record.marking,
  reviewAt: (m: StoredRecord<BaseContent & Envelope>) => m.record.reviewAt,
  recordBytes: (m: StoredRecord<BaseContent & Envelope>) => m.bytes,
  recordSignature: (m: StoredRecord<BaseContent & Envelope>) => m.signature,
};
