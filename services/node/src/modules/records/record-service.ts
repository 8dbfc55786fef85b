import { createHash } from 'node:crypto';
import { canonicalJson, signRecord, type SigningKey } from '@mcx/signing';
import type { McxRecordState, McxRestrictionReason, McxRetractionReason } from '../../__generated__/resolvers-types.js';
import { MARKING, type BaseContent, type Envelope, type Kind, type RecordKindSpec, type StoredRecord, type Tombstone, type WriteRules } from './record-kind.js';
import type { CurrentRecord, InTx, RecordQueries, RecordStore, VersionWrite, WriteOutcome } from './record-store.js';
import { InputChecker, type FieldError } from './validation.js';

/** Retention periods when configuration sets none: two years for episodes, one for intelligence. */
export const DEFAULT_REVIEW_DAYS: WriteRules['reviewDays'] = { episode: 730, associate: 365, location_of_concern: 365 };

/** The most records one batch may carry. */
export const MAX_BATCH = 1000;

export interface RecordServiceDeps {
  store: RecordStore;
  recordKey: SigningKey<'record'>;
  /** Signs a record with recordKey. Only the signing benchmark swaps it, to measure the cost. */
  sign?: (record: object) => { bytes: string; signature: string };
  forceCode: string;
  clockSkewSeconds: number;
  isKnownOrganisation(code: string): boolean;
  isKnownAuthority(code: string): boolean;
  /** Retention by kind, in days (MCX_REVIEW_DAYS_*). */
  reviewDays?: WriteRules['reviewDays'];
  now?: () => Date;
}

export type Published<T> = { record: StoredRecord<T>; errors: [] } | { record: null; errors: FieldError[] };

/** Turns a refused write into the field error a publisher sees. */
export function outcomeError(o: WriteOutcome): FieldError | null {
  switch (o.status) {
    case 'stored':
    case 'unchanged':
      return null;
    case 'CONFLICT':
      return { field: 'version', code: 'CONFLICT', message: 'this version was already published with different content' };
    case 'STALE_VERSION':
      return { field: 'version', code: 'STALE_VERSION', message: `version must be above the current version ${o.currentVersion}` };
    case 'KIND_MISMATCH':
      return { field: 'id', code: 'CONFLICT', message: 'this id is already used by a record of another kind' };
    case 'RETRACTED':
      return { field: 'id', code: 'INVALID_STATE', message: 'this record was retracted and cannot be amended' };
    case 'NOT_FOUND':
      return { field: 'id', code: 'NOT_FOUND', message: 'no record with this id has been published by this force' };
  }
}

function toStored<T>(current: Pick<CurrentRecord, 'bytes' | 'signature' | 'state'>): StoredRecord<T> {
  return { record: JSON.parse(current.bytes) as T, bytes: current.bytes, signature: current.signature, state: current.state as McxRecordState };
}

/**
 * The write path shared by every record kind: validation, the envelope, signing over the
 * canonical bytes, version rules and life-cycle changes. Kind-specific rules live in specs.
 */
export class RecordService {
  private readonly now: () => Date;
  private readonly deps: Required<Pick<RecordServiceDeps, 'sign'>> & RecordServiceDeps;

  private readonly queries: RecordQueries;

  constructor(deps: RecordServiceDeps) {
    this.deps = { ...deps, sign: deps.sign ?? ((record) => signRecord(record, deps.recordKey)) };
    this.queries = deps.store.queries();
    this.now = deps.now ?? (() => new Date());
  }

  /** Signs a view of a record (a disclosed view, a pointer) with the current record key. */
  signView(view: object): { bytes: string; signature: string } {
    return this.deps.sign(view);
  }

  /** Signs again, with the current record key, everything signed with a revoked key. */
  resignRevoked(revokedKid: string): Promise<number> {
    return this.deps.store.resignByKid(this.deps.forceCode, revokedKid, (bytes) => {
      // The stored bytes are canonical already; signing their parse yields the same bytes.
      const signed = signRecord(JSON.parse(bytes) as object, this.deps.recordKey);
      if (signed.bytes !== bytes) throw new Error('stored record bytes are not canonical');
      return { signature: signed.signature, kid: this.deps.recordKey.kid };
    });
  }

  rules(): WriteRules {
    return {
      now: this.now(),
      clockSkewSeconds: this.deps.clockSkewSeconds,
      forceCode: this.deps.forceCode,
      isKnownOrganisation: this.deps.isKnownOrganisation,
      isKnownAuthority: this.deps.isKnownAuthority,
      reviewDays: this.deps.reviewDays ?? DEFAULT_REVIEW_DAYS,
    };
  }

  /** The write for validated content: hashed without publishedAt, signed with it. */
  toWrite<C extends BaseContent>(spec: RecordKindSpec<unknown, C>, content: C): VersionWrite {
    const unsigned = { schema: spec.schema, kind: spec.kind, owner: this.deps.forceCode, state: 'ACTIVE' as const, marking: MARKING, ...content };
    return this.write(spec.kind, unsigned, { ownerReference: content.ownerReference, reviewAt: content.reviewAt, ...spec.index(content) });
  }

  private write(kind: Kind, unsigned: { id: string; version: number; state: string }, index: VersionWrite['index']): VersionWrite {
    const contentHash = createHash('sha256').update(canonicalJson(unsigned)).digest('hex');
    return {
      kind,
      owner: this.deps.forceCode,
      id: unsigned.id,
      version: unsigned.version,
      state: unsigned.state,
      contentHash,
      render: (publishedAt) => ({ ...this.deps.sign({ ...unsigned, publishedAt: publishedAt.toISOString() }), kid: this.deps.recordKey.kid }),
      index,
    };
  }

  /** Validates and stores one version; `mustExist` makes it an amendment. */
  async publish<I, C extends BaseContent>(spec: RecordKindSpec<I, C>, input: I, opts: { mustExist?: boolean; inTx?: InTx } = {}): Promise<Published<C & Envelope>> {
    const checked = spec.check(input, this.rules());
    if (!checked.ok) return { record: null, errors: checked.errors };
    const { outcomes } = await this.deps.store.writeVersions([this.toWrite(spec, checked.value)], this.now(), opts);
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error || (outcome.status !== 'stored' && outcome.status !== 'unchanged')) return { record: null, errors: [error!] };
    return { record: toStored<C & Envelope>(outcome), errors: [] };
  }

  /**
   * Stores up to MAX_BATCH records all-or-nothing. Every problem comes back with the index
   * of its record; if there is any, nothing is stored. Retrying a whole batch is safe: the
   * records already stored are recognised and not stored twice.
   */
  async publishBatch<I, C extends BaseContent>(spec: RecordKindSpec<I, C>, inputs: readonly I[], opts: { inTx?: InTx } = {}): Promise<{ records: StoredRecord<C & Envelope>[]; errors: FieldError[] }> {
    if (inputs.length === 0) return { records: [], errors: [{ field: 'inputs', code: 'REQUIRED', message: 'a batch needs at least one record' }] };
    if (inputs.length > MAX_BATCH) return { records: [], errors: [{ field: 'inputs', code: 'TOO_MANY', message: `a batch may hold at most ${MAX_BATCH} records; split it` }] };
    const rules = this.rules();
    const errors: FieldError[] = [];
    const writes: VersionWrite[] = [];
    const seen = new Map<string, number>();
    inputs.forEach((input, index) => {
      const checked = spec.check(input, rules);
      if (!checked.ok) {
        errors.push(...checked.errors.map((e) => ({ ...e, index })));
        return;
      }
      const first = seen.get(checked.value.id);
      if (first !== undefined) {
        errors.push({ field: 'id', code: 'DUPLICATE_ID', message: `the same id is already at index ${first} of this batch`, index });
        return;
      }
      seen.set(checked.value.id, index);
      writes.push(this.toWrite(spec, checked.value));
    });
    if (errors.length > 0) return { records: [], errors };
    const { ok, outcomes } = await this.deps.store.writeVersions(writes, this.now(), opts);
    if (!ok) {
      return {
        records: [],
        errors: outcomes.flatMap((o, index) => {
          const e = outcomeError(o);
          return e ? [{ ...e, index }] : [];
        }),
      };
    }
    return { records: outcomes.map((o) => toStored<C & Envelope>(o as Extract<WriteOutcome, { bytes: string }>)), errors: [] };
  }

  /** The current version of a record, or null; a retracted record reads as null. */
  async get<T>(kind: Kind, owner: string, id: string): Promise<StoredRecord<T> | null> {
    const current = await this.deps.store.current(owner, id, kind);
    if (!current || current.state === 'RETRACTED') return null;
    return toStored<T>(current);
  }

  /**
   * A record as a reader may see it: null when absent or retracted; withheld (with the
   * reason) when restricted or past its review date.
   */
  async read<T extends { reviewAt: string }>(kind: Kind, owner: string, id: string): Promise<{ record: StoredRecord<T> | null; withheld: 'RESTRICTED' | 'REVIEW_OVERDUE' | null }> {
    const found = await this.get<T>(kind, owner, id);
    if (!found) return { record: null, withheld: null };
    if (found.state === 'RESTRICTED') return { record: null, withheld: 'RESTRICTED' };
    if (found.record.reviewAt < this.now().toISOString().slice(0, 10)) return { record: null, withheld: 'REVIEW_OVERDUE' };
    return { record: found, withheld: null };
  }

  /** Today's date (YYYY-MM-DD) by this node's clock: records reviewed before it are overdue. */
  today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  /** The subjects whose readable episodes here name any of these associates (`owner/id`). */
  subjectsNaming(owner: string, associateRefs: readonly string[], today: string): Promise<string[]> {
    return this.queries.subjectsNaming(owner, associateRefs, today);
  }

  /** This force's readable records of a kind in a box (the indexed prefilter; callers refine by distance). */
  async inBox<T>(kind: Kind, box: { minLat: number; maxLat: number; minLon: number; maxLon: number }, today: string, limit: number): Promise<StoredRecord<T>[]> {
    return (await this.queries.inBox(kind, this.deps.forceCode, box, today, limit)).map((r) => toStored<T>(r));
  }

  /** This force's readable records of one kind, newest report first, with what was withheld. */
  async listLocal<T>(kind: Kind, opts: { subjectRef?: string | null; first: number; after?: string | null; countGradings?: boolean }) {
    const page = await this.deps.store.listCurrent({ kind, owner: this.deps.forceCode, ...opts, today: this.now().toISOString().slice(0, 10) });
    return { nodes: page.records.map((r) => toStored<T>(r)), nextCursor: page.nextCursor, withheld: page.withheld, gradings: page.gradings };
  }

  /** Restricts (accuracy disputed) or lifts the restriction. */
  async setRestricted(kind: Kind, id: string, restricted: boolean, reason?: McxRestrictionReason, inTx?: InTx): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    const result = await this.deps.store.setState(this.deps.forceCode, id, kind, restricted ? 'RESTRICTED' : 'ACTIVE', this.now(), reason ?? null, inTx);
    if (!result.record) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (result.refused) return { record: null, errors: [outcomeError({ status: 'RETRACTED', currentVersion: result.record.version })!] };
    return { record: { ...result.record, kind, id }, errors: [] };
  }

  /**
   * Reviews a record (DPA 2018 s39): the same content as a new version with a new review
   * date, signed again. A record withheld as overdue is readable again once reviewed.
   */
  async review(kind: Kind, id: string, version: number, reviewAt: string, inTx?: InTx): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    const c = new InputChecker();
    c.version('version', version);
    const date = c.date('reviewAt', reviewAt, { required: true });
    if (date && date < this.now().toISOString().slice(0, 10)) c.fail('reviewAt', 'OUT_OF_RANGE', 'reviewAt is in the past');
    if (c.errors.length > 0) return { record: null, errors: c.errors };
    const current = await this.deps.store.current(this.deps.forceCode, id, kind);
    const index = await this.deps.store.headIndex(this.deps.forceCode, id);
    if (!current || !index) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (current.state === 'RETRACTED') return { record: null, errors: [outcomeError({ status: 'RETRACTED', currentVersion: current.version })!] };
    const { publishedAt: _previous, ...content } = JSON.parse(current.bytes) as { publishedAt: string; id: string; version: number; state: string };
    const unsigned = { ...content, version, reviewAt: date!, state: 'ACTIVE' };
    const { outcomes } = await this.deps.store.writeVersions([this.write(kind, unsigned, { ...index, reviewAt: date! })], this.now(), { mustExist: true, ...(inTx ? { inTx } : {}) });
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error || (outcome.status !== 'stored' && outcome.status !== 'unchanged')) return { record: null, errors: [error!] };
    return { record: { bytes: outcome.bytes, signature: outcome.signature, state: outcome.state, version, kind, id }, errors: [] };
  }

  /** Retracts a record: a signed tombstone becomes its current version. */
  async retract(kind: Kind, id: string, version: number, reason: McxRetractionReason, inTx?: InTx): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    const current = await this.deps.store.current(this.deps.forceCode, id, kind);
    if (!current) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (current.state === 'RETRACTED') return { record: { ...current, kind, id }, errors: [] };
    const tombstone: Omit<Tombstone, 'publishedAt'> = { schema: 'mcx.tombstone/1', kind, owner: this.deps.forceCode, id, version, state: 'RETRACTED', marking: MARKING, reason };
    const previous = JSON.parse(current.bytes) as { ownerReference: string; reviewAt: string };
    const { outcomes } = await this.deps.store.writeVersions([this.write(kind, tombstone, { ownerReference: previous.ownerReference, reviewAt: previous.reviewAt })], this.now(), { mustExist: true, ...(inTx ? { inTx } : {}) });
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error || (outcome.status !== 'stored' && outcome.status !== 'unchanged')) return { record: null, errors: [error!] };
    return { record: { bytes: outcome.bytes, signature: outcome.signature, state: 'RETRACTED', version, kind, id }, errors: [] };
  }
}
