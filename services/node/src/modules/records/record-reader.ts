import { canonicalJson, keyResolverFromKeys, type KeyResolver, type SigningKey } from '@mcx/signing';

import type { McxRecordState } from '../../__generated__/resolvers-types.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { Grading } from './grading.js';
import { IntegrityMonitor, markVerified, verifyStoredRow } from './record-integrity.js';
import type { Kind, StoredRecord } from './record-kind.js';
import type { RecordQueries } from './record-queries.js';
import type { StoredRow, StoredVersionCheck } from './record-store-model.js';
import type { RecordStore } from './record-store.js';

export interface RecordReaderDeps {
  store: RecordStore;
  recordKey: SigningKey<'record'>;
  forceCode: string;
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

/**
 * The read path shared by every record kind. No stored bytes are used before their signature
 * verifies: a row that fails is withheld and reported, never handed on.
 */
export class RecordReader {
  protected readonly now: () => Date;
  protected readonly queries: RecordQueries;
  private readonly forceCode: string;
  private readonly verifyKeys: KeyResolver;
  /** Integrity faults met by this process: operators read them (nodeStatus, /readyz). */
  readonly integrity: IntegrityMonitor;

  constructor(deps: RecordReaderDeps) {
    this.queries = deps.store.queries();
    this.forceCode = deps.forceCode;
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
  protected verified<T>(row: StoredRow, selectedBy: { subjectRef?: boolean; reviewAt?: boolean } = {}): StoredRecord<T> | null {
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
  protected readonly checkStored: StoredVersionCheck = (stored) => {
    const checked = verifyStoredRow(stored, this.verifyKeys);
    if (!checked.ok) this.integrity.report(stored, checked.reason);
    return checked.ok;
  };

  /** The current version of a record with its stored signature checked. */
  async load<T>(kind: Kind, owner: string, id: string): Promise<Loaded<T>> {
    const row = await this.queries.current(owner, id, kind);
    if (!row) return { status: 'absent' };
    const stored = this.verified<T>(row);
    return stored ? { status: 'ok', row, stored } : { status: 'fault', row };
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
    for (const row of await this.queries.inBox(kind, this.forceCode, box, today, limit)) {
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
    for (const row of await this.queries.withheldInBox(kind, this.forceCode, box, today, limit)) {
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
    const page = await this.queries.listCurrent({ kind, owner: this.forceCode, ...opts, today: this.today() });
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
