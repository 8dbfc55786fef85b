import { createHash } from 'node:crypto';

import { canonicalJson, keyResolverFromKeys, signRecord, type KeyResolver, type SigningKey } from '@mcx/signing';

import type { McxRecordState, McxRestrictionReason, McxRetractionReason } from '../../__generated__/resolvers-types.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { Grading } from './grading.js';
import { IntegrityMonitor, markVerified, verifyStoredRow } from './record-integrity.js';
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
import type {
  CurrentRecord,
  InTx,
  RecordQueries,
  RecordStore,
  StoredRow,
  StoredVersionCheck,
  VersionWrite,
  WriteOutcome,
} from './record-store.js';
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
  /**
   * The keys stored records are verified with before any use of their bytes (this node's record
   * keys: see ownRecordKeys); without it, the current record key only.
   */
  verifyKeys?: KeyResolver;
  /** Where integrity faults are counted and logged (nodeStatus, /readyz); without it, counted only. */
  integrity?: IntegrityMonitor;
  now?: () => Date;
}

/**
 * A record's current version after its stored signature was checked: absent, faulty (its bytes
 * no longer verify: withheld, never used), or verified (any state, RETRACTED included).
 */
export type Loaded<T> =
  { status: 'absent' } | { status: 'fault'; row: StoredRow } | { status: 'ok'; row: StoredRow; stored: StoredRecord<T> };

/** Why a readable record is left out of an answer at its owner. */
export type ReadWithheld = 'RESTRICTED' | 'REVIEW_OVERDUE' | 'INTEGRITY_FAULT';

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
 */
export class RecordService {
  private readonly now: () => Date;
  private readonly deps: Required<Pick<RecordServiceDeps, 'sign'>> & RecordServiceDeps;

  private readonly queries: RecordQueries;
  private readonly verifyKeys: KeyResolver;
  /** Integrity faults met by this process: operators read them (nodeStatus, /readyz). */
  readonly integrity: IntegrityMonitor;

  constructor(deps: RecordServiceDeps) {
    this.deps = { ...deps, sign: deps.sign ?? ((record) => signRecord(record, deps.recordKey)) };
    this.queries = deps.store.queries();
    this.now = deps.now ?? (() => new Date());
    this.verifyKeys = deps.verifyKeys ?? keyResolverFromKeys([deps.recordKey]);
    this.integrity = deps.integrity ?? new IntegrityMonitor();
  }

  /**
   * The one gate before stored bytes are used: the stored signature, with this node's parsed
   * record keys, the row's envelope against the signed one, and the index columns the query
   * selected the row by (`selectedBy`) against the signed values, so that no column steers a
   * read. Returns the record parsed from the verified bytes, or null after reporting an
   * integrity fault.
   */
  private verified<T>(row: StoredRow, selectedBy: { subjectRef?: boolean; reviewAt?: boolean } = {}): StoredRecord<T> | null {
    const checked = verifyStoredRow(
      { ...row, subjectRef: selectedBy.subjectRef ? row.subjectRef : undefined, reviewAt: selectedBy.reviewAt ? row.reviewAt : undefined },
      this.verifyKeys,
    );
    if (!checked.ok) {
      this.integrity.report(row, checked.reason);
      return null;
    }
    return markVerified({ record: checked.record as T, bytes: row.bytes, signature: row.signature, state: row.state as McxRecordState });
  }

  /** An already stored version is handed back to a retrying publisher only when it still verifies. */
  private readonly checkStored: StoredVersionCheck = (stored) => {
    const checked = verifyStoredRow(stored, this.verifyKeys);
    if (!checked.ok) this.integrity.report(stored, checked.reason);
    return checked.ok;
  };

  /** The current version of a record with its stored signature checked. */
  async load<T>(kind: Kind, owner: string, id: string): Promise<Loaded<T>> {
    const row = await this.deps.store.current(owner, id, kind);
    if (!row) return { status: 'absent' };
    const stored = this.verified<T>(row);
    return stored ? { status: 'ok', row, stored } : { status: 'fault', row };
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

  /** The current version of a record, verified, or null; a retracted or faulty record reads as null. */
  async get<T>(kind: Kind, owner: string, id: string): Promise<StoredRecord<T> | null> {
    const loaded = await this.load<T>(kind, owner, id);
    return loaded.status === 'ok' && loaded.stored.state !== 'RETRACTED' ? loaded.stored : null;
  }

  /**
   * A record as a reader may see it: null when absent or retracted; withheld (with the reason)
   * when its stored signature fails, when restricted, or when past its review date.
   */
  async read<T extends { reviewAt: string }>(
    kind: Kind,
    owner: string,
    id: string,
  ): Promise<{ record: StoredRecord<T> | null; withheld: ReadWithheld | null }> {
    const loaded = await this.load<T>(kind, owner, id);
    if (loaded.status === 'absent') return { record: null, withheld: null };
    if (loaded.status === 'fault') return { record: null, withheld: 'INTEGRITY_FAULT' };
    const found = loaded.stored;
    if (found.state === 'RETRACTED') return { record: null, withheld: null };
    if (found.state === 'RESTRICTED') return { record: null, withheld: 'RESTRICTED' };
    if (found.record.reviewAt < this.today()) return { record: null, withheld: 'REVIEW_OVERDUE' };
    return { record: found, withheld: null };
  }

  /** Today's date (YYYY-MM-DD) by this node's clock: records reviewed before it are overdue. */
  today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  /**
   * The subjects whose readable episodes here name any of these associates (`owner/id`). The
   * indexed column only finds candidates: each episode counts by its verified bytes, and only
   * when `counts` admits it (the disclosure policy for the asker).
   */
  async subjectsNaming(
    owner: string,
    associateRefs: readonly string[],
    today: string,
    counts: (episode: EpisodeRecord) => boolean = () => true,
  ): Promise<string[]> {
    const wanted = new Set(associateRefs);
    const subjects = new Set<string>();
    for (const row of await this.queries.episodesNaming(owner, associateRefs, today)) {
      const episode = this.verified<EpisodeRecord>(row, { reviewAt: true });
      if (episode && counts(episode.record) && episode.record.facts.associates.some((a) => wanted.has(`${a.owner}/${a.associateId}`)))
        subjects.add(episode.record.subjectRef);
    }
    return [...subjects];
  }

  /**
   * This force's readable records of a kind in a box (the indexed prefilter; callers refine by
   * distance), verified; `faulty` names (by id) those withheld because their bytes fail.
   */
  async inBox<T>(
    kind: Kind,
    box: { minLat: number; maxLat: number; minLon: number; maxLon: number },
    today: string,
    limit: number,
  ): Promise<{ records: StoredRecord<T>[]; faulty: string[] }> {
    const records: StoredRecord<T>[] = [];
    const faulty: string[] = [];
    for (const row of await this.queries.inBox(kind, this.deps.forceCode, box, today, limit)) {
      const stored = this.verified<T>(row, { reviewAt: true });
      if (stored) records.push(stored);
      else faulty.push(row.id);
    }
    return { records, faulty };
  }

  /**
   * This force's records of a kind in a box that a reader may not see now (restricted, or past
   * review), verified, with the reason: so that a search can count what it left out.
   */
  async withheldInBox<T>(
    kind: Kind,
    box: { minLat: number; maxLat: number; minLon: number; maxLon: number },
    today: string,
    limit: number,
  ): Promise<{ record: T; reason: 'RESTRICTED' | 'REVIEW_OVERDUE' }[]> {
    const out: { record: T; reason: 'RESTRICTED' | 'REVIEW_OVERDUE' }[] = [];
    for (const row of await this.queries.withheldInBox(kind, this.deps.forceCode, box, today, limit)) {
      const stored = this.verified<T>(row);
      if (stored) out.push({ record: stored.record, reason: row.state === 'RESTRICTED' ? 'RESTRICTED' : 'REVIEW_OVERDUE' });
    }
    return out;
  }

  /**
   * This force's readable records of one kind, newest report first, verified, with what was
   * withheld. Records of the page whose stored signature fails are withheld and counted as
   * `integrityFault`; they leave the grading counts (which read every page in SQL).
   */
  async listLocal<T>(kind: Kind, opts: { subjectRef?: string | null; first: number; after?: string | null; countGradings?: boolean }) {
    const page = await this.deps.store.listCurrent({ kind, owner: this.deps.forceCode, ...opts, today: this.today() });
    const nodes: StoredRecord<T>[] = [];
    const gradings = page.gradings.map((g) => ({ ...g, key: canonicalJson(g.grading) }));
    for (const row of page.records) {
      const stored = this.verified<T>(row, { reviewAt: true, subjectRef: !!opts.subjectRef });
      if (stored) {
        nodes.push(stored);
        continue;
      }
      const group = gradings.find((g) => g.key === canonicalJson(storedGrading(row.bytes)) && g.count > 0);
      if (group) group.count -= 1;
    }
    return {
      nodes,
      nextCursor: page.nextCursor,
      withheld: { ...page.withheld, integrityFault: page.records.length - nodes.length },
      gradings: gradings.filter((g) => g.count > 0).map(({ grading, count }) => ({ grading, count })),
    };
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
    const index = await this.deps.store.headIndex(this.deps.forceCode, id);
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
    const previous = current.status === 'ok' ? current.stored.record : await this.deps.store.headIndex(this.deps.forceCode, id);
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

/**
 * The grading a faulty row's bytes claim, read only to take the row out of the grading counts
 * (which read the same bytes in SQL); never used for a decision about the record.
 */
function storedGrading(bytes: string): Grading | null {
  try {
    return ((JSON.parse(bytes) as { grading?: Grading | null }).grading ?? null) as Grading | null;
  } catch {
    return null;
  }
}
