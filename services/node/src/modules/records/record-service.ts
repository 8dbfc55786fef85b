import { createHash } from 'node:crypto';

import { canonicalJson, keyResolverFromKeys, signRecord, type VerifyKey } from '@mcx/signing';

import type { McxRecordState, McxRestrictionReason, McxRetractionReason } from '../../__generated__/resolvers-types.js';
import { verifyStoredRow } from './record-integrity.js';
import {
  MARKING,
  type BaseContent,
  type Envelope,
  type Kind,
  type RecordKindSpec,
  type StoredRecord,
  type Tombstone,
  type WriteRules,
} from './record-kind.js';
import { RecordReader, type RecordReaderDeps } from './record-reader.js';
import type { CurrentRecord, InTx, VersionWrite, WriteOutcome } from './record-store-model.js';
import { InputChecker, type FieldError } from './validation.js';

/** Retention periods when configuration sets none: two years for episodes, one for intelligence. */
export const DEFAULT_REVIEW_DAYS: WriteRules['reviewDays'] = { episode: 730, associate: 365, location_of_concern: 365 };

/** The most records one batch may carry. */
export const MAX_BATCH = 1000;

export interface RecordServiceDeps extends RecordReaderDeps {
  /** Signs a record with recordKey. Only the signing benchmark swaps it, to measure the cost. */
  sign?: (record: object) => { bytes: string; signature: string };
  clockSkewSeconds: number;
  isKnownOrganisation(code: string): boolean;
  isKnownAuthority(code: string): boolean;
  /** Retention by kind, in days (MCX_REVIEW_DAYS_*). */
  reviewDays?: WriteRules['reviewDays'];
}

const INTEGRITY_FAULT: FieldError = {
  field: 'id',
  code: 'INTEGRITY_FAULT',
  message:
    "the stored copy of this record fails its signature check: it is not used, and this node's operators are alerted; publish the record again as a new version",
};

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
    case 'INTEGRITY_FAULT':
      return INTEGRITY_FAULT;
  }
}

function toStored<T>(current: Pick<CurrentRecord, 'bytes' | 'signature' | 'state'>): StoredRecord<T> {
  return {
    record: JSON.parse(current.bytes) as T,
    bytes: current.bytes,
    signature: current.signature,
    state: current.state as McxRecordState,
  };
}

/**
 * The write path shared by every record kind: validation, the envelope, signing over the
 * canonical bytes, version rules and life-cycle changes. Kind-specific rules live in specs.
 * It extends RecordReader so that a write reads the current version through the same
 * signature check as any reader.
 */
export class RecordService extends RecordReader {
  private readonly deps: Required<Pick<RecordServiceDeps, 'sign'>> & RecordServiceDeps;

  constructor(deps: RecordServiceDeps) {
    super(deps);
    this.deps = { ...deps, sign: deps.sign ?? ((record) => signRecord(record, deps.recordKey)) };
  }

  /** Signs a view of a record (a disclosed view, a pointer) with the current record key. */
  signView(view: object): { bytes: string; signature: string } {
    return this.deps.sign(view);
  }

  /**
   * Signs again, with the current record key, everything signed with a revoked key. A stored version
   * is signed again only if its stored signature still verifies under the revoked key and signs that
   * row (kind, owner, id, version, state): bytes changed in the database since they were signed are
   * never given a good signature. Those are left as they are (unusable, as every read finds) and
   * returned, for the force system to publish again.
   */
  resignRevoked(revoked: VerifyKey<'record'>): Promise<{ resigned: number; refused: { id: string; version: number }[] }> {
    if (revoked.kid === this.deps.recordKey.kid)
      throw new Error('the revoked key is still the current record key: rotate it first (mcx keys rotate, activate)');
    const revokedOnly = keyResolverFromKeys([revoked]);
    return this.deps.store.resignByKid(this.deps.forceCode, revoked.kid, (row) => {
      if (!verifyStoredRow(row, revokedOnly).ok) return null;
      // The stored bytes are canonical (verified above); signing their parse yields the same bytes.
      const signed = signRecord(JSON.parse(row.bytes) as object, this.deps.recordKey);
      if (signed.bytes !== row.bytes) return null;
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
    const unsigned = {
      schema: spec.schema,
      kind: spec.kind,
      owner: this.deps.forceCode,
      state: 'ACTIVE' as const,
      marking: MARKING,
      ...content,
    };
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
      render: (publishedAt) => ({
        ...this.deps.sign({ ...unsigned, publishedAt: publishedAt.toISOString() }),
        kid: this.deps.recordKey.kid,
      }),
      index,
    };
  }

  /** Validates and stores one version; `mustExist` makes it an amendment. */
  async publish<I, C extends BaseContent>(
    spec: RecordKindSpec<I, C>,
    input: I,
    opts: { mustExist?: boolean; inTx?: InTx } = {},
  ): Promise<Published<C & Envelope>> {
    const checked = spec.check(input, this.rules());
    if (!checked.ok) return { record: null, errors: checked.errors };
    const { outcomes } = await this.deps.store.writeVersions([this.toWrite(spec, checked.value)], this.now(), {
      ...opts,
      checkStored: this.checkStored,
    });
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
  async publishBatch<I, C extends BaseContent>(
    spec: RecordKindSpec<I, C>,
    inputs: readonly I[],
    opts: { inTx?: InTx } = {},
  ): Promise<{ records: StoredRecord<C & Envelope>[]; errors: FieldError[] }> {
    if (inputs.length === 0)
      return { records: [], errors: [{ field: 'inputs', code: 'REQUIRED', message: 'a batch needs at least one record' }] };
    if (inputs.length > MAX_BATCH)
      return {
        records: [],
        errors: [{ field: 'inputs', code: 'TOO_MANY', message: `a batch may hold at most ${MAX_BATCH} records; split it` }],
      };
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
    const { ok, outcomes } = await this.deps.store.writeVersions(writes, this.now(), { ...opts, checkStored: this.checkStored });
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

  /** Restricts (accuracy disputed) or lifts the restriction. */
  async setRestricted(
    kind: Kind,
    id: string,
    restricted: boolean,
    reason?: McxRestrictionReason,
    inTx?: InTx,
  ): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    // A record whose stored copy fails is not changed, and its bytes are not handed back.
    const before = await this.load(kind, this.deps.forceCode, id);
    if (before.status === 'absent') return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (before.status === 'fault') return { record: null, errors: [INTEGRITY_FAULT] };
    const result = await this.deps.store.setState(
      this.deps.forceCode,
      id,
      kind,
      restricted ? 'RESTRICTED' : 'ACTIVE',
      this.now(),
      reason ?? null,
      inTx,
    );
    if (!result.record) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (result.refused) return { record: null, errors: [outcomeError({ status: 'RETRACTED', currentVersion: result.record.version })!] };
    if (!this.verified(result.record)) return { record: null, errors: [INTEGRITY_FAULT] };
    const { bytes, signature, state, version, restrictionReason } = result.record;
    return { record: { bytes, signature, state, version, restrictionReason: restrictionReason ?? null, kind, id }, errors: [] };
  }

  /**
   * Reviews a record (DPA 2018 s39): the same content as a new version with a new review
   * date, signed again. A record withheld as overdue is readable again once reviewed.
   */
  async review(
    kind: Kind,
    id: string,
    version: number,
    reviewAt: string,
    inTx?: InTx,
  ): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    const c = new InputChecker();
    c.version('version', version);
    const date = c.date('reviewAt', reviewAt, { required: true });
    if (date && date < this.now().toISOString().slice(0, 10)) c.fail('reviewAt', 'OUT_OF_RANGE', 'reviewAt is in the past');
    if (c.errors.length > 0) return { record: null, errors: c.errors };
    // The same content signed again: only from bytes whose stored signature verifies.
    const current = await this.load<{ publishedAt: string; id: string; version: number; state: string }>(kind, this.deps.forceCode, id);
    const index = await this.queries.headIndex(this.deps.forceCode, id);
    if (current.status === 'absent' || !index) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (current.status === 'fault') return { record: null, errors: [INTEGRITY_FAULT] };
    if (current.stored.state === 'RETRACTED')
      return { record: null, errors: [outcomeError({ status: 'RETRACTED', currentVersion: current.row.version })!] };
    const { publishedAt: _previous, ...content } = current.stored.record;
    const unsigned = { ...content, version, reviewAt: date!, state: 'ACTIVE' };
    const { outcomes } = await this.deps.store.writeVersions([this.write(kind, unsigned, { ...index, reviewAt: date! })], this.now(), {
      mustExist: true,
      ...(inTx ? { inTx } : {}),
    });
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error || (outcome.status !== 'stored' && outcome.status !== 'unchanged')) return { record: null, errors: [error!] };
    return { record: { bytes: outcome.bytes, signature: outcome.signature, state: outcome.state, version, kind, id }, errors: [] };
  }

  /** Retracts a record: a signed tombstone becomes its current version. */
  async retract(
    kind: Kind,
    id: string,
    version: number,
    reason: McxRetractionReason,
    inTx?: InTx,
  ): Promise<{ record: (CurrentRecord & { kind: Kind; id: string }) | null; errors: FieldError[] }> {
    const current = await this.load<{ ownerReference: string; reviewAt: string }>(kind, this.deps.forceCode, id);
    if (current.status === 'absent') return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    if (current.row.state === 'RETRACTED') {
      if (current.status === 'fault') return { record: null, errors: [INTEGRITY_FAULT] };
      const { bytes, signature, state, version: v } = current.row;
      return { record: { bytes, signature, state, version: v, kind, id }, errors: [] };
    }
    const tombstone: Omit<Tombstone, 'publishedAt'> = {
      schema: 'mcx.tombstone/1',
      kind,
      owner: this.deps.forceCode,
      id,
      version,
      state: 'RETRACTED',
      marking: MARKING,
      reason,
    };
    // A faulty record may still be retracted: the tombstone is new and holds none of its content;
    // its index then comes from the head row, since the stored bytes cannot be trusted.
    const previous = current.status === 'ok' ? current.stored.record : await this.queries.headIndex(this.deps.forceCode, id);
    if (!previous) return { record: null, errors: [outcomeError({ status: 'NOT_FOUND' })!] };
    const { outcomes } = await this.deps.store.writeVersions(
      [this.write(kind, tombstone, { ownerReference: previous.ownerReference, reviewAt: previous.reviewAt })],
      this.now(),
      { mustExist: true, checkStored: this.checkStored, ...(inTx ? { inTx } : {}) },
    );
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error || (outcome.status !== 'stored' && outcome.status !== 'unchanged')) return { record: null, errors: [error!] };
    return { record: { bytes: outcome.bytes, signature: outcome.signature, state: 'RETRACTED', version, kind, id }, errors: [] };
  }
}
