import { and, asc, between, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';

import { schema, type Database } from '@mcx/db';

import type { Tx } from '../audit/audit-store.js';
import type { Grading } from './grading.js';

/** Runs inside a write's transaction with the keys (owner/id) it stored: the audit entry commits with the write. */
export type InTx = (tx: Tx, stored: string[]) => Promise<unknown>;

const { records, recordVersions } = schema;

/** The indexed columns of a record's head row; everything else lives in the signed bytes. */
export interface RecordIndex {
  ownerReference: string;
  subjectRef?: string | null;
  episodeStatus?: string | null;
  reportedAt?: Date | null;
  lat?: number | null;
  lon?: number | null;
  postcode?: string | null;
  uprn?: string | null;
  reviewAt?: string | null;
  associateRefs?: string[] | null;
}

/** One version to store. `bytes` are the exact canonical JSON that is (or will be) signed. */
export interface VersionWrite {
  kind: string;
  owner: string;
  id: string;
  version: number;
  state: string;
  contentHash: string;
  /** Builds the bytes given the publication time (the node stamps it once, on first store). */
  render(publishedAt: Date): { bytes: string; signature: string; kid: string };
  index: RecordIndex;
}

export type WriteOutcome =
  | { status: 'stored' | 'unchanged'; bytes: string; signature: string; state: string }
  | { status: 'CONFLICT' | 'STALE_VERSION' | 'KIND_MISMATCH' | 'RETRACTED'; currentVersion: number }
  | { status: 'NOT_FOUND' }
  | { status: 'INTEGRITY_FAULT'; currentVersion: number };

/**
 * Checks a version already stored before its bytes are handed back (an idempotent retry): false
 * when its stored signature fails, and the batch is then refused.
 */
export type StoredVersionCheck = (stored: {
  kind: string;
  owner: string;
  id: string;
  version: number;
  bytes: string;
  signature: string;
}) => boolean;

/** A record's current version as stored. */
export interface CurrentRecord {
  bytes: string;
  signature: string;
  state: string;
  version: number;
  restrictionReason?: string | null;
}

/**
 * A current version with the row that holds it: what its signed bytes must agree with before
 * they are used (see record-integrity.ts).
 */
export interface StoredRow extends CurrentRecord {
  kind: string;
  owner: string;
  id: string;
  subjectRef: string | null;
  reviewAt: string | null;
}

// The columns every read of a current version selects.
const ROW = {
  kind: records.kind,
  owner: records.owner,
  id: records.id,
  version: records.version,
  state: records.state,
  subjectRef: records.subjectRef,
  reviewAt: records.reviewAt,
  bytes: recordVersions.bytes,
  signature: recordVersions.signature,
};

/** A rollback that carries the per-record outcomes out of the transaction. */
class Rejected extends Error {
  constructor(readonly outcomes: WriteOutcome[]) {
    super('batch rejected');
  }
}

/**
 * SQL for records: versioned, idempotent writes and reads of stored bytes. Callers hand in
 * validated, rendered records; this layer decides only what the version rules say.
 */
export class RecordStore {
  constructor(private readonly db: Database) {}

  /** The read-side queries that need no transaction. */
  queries(): RecordQueries {
    return new RecordQueries(this.db);
  }

  /**
   * Stores versions all-or-nothing. Same (owner, id, version) with the same content is a
   * no-op that returns the stored bytes; with other content it is CONFLICT; a version at or
   * below the current one is STALE_VERSION. If any write is refused, nothing is stored.
   */
  async writeVersions(
    writes: VersionWrite[],
    now: Date,
    opts: { mustExist?: boolean; inTx?: InTx; checkStored?: StoredVersionCheck } = {},
  ): Promise<{ ok: boolean; outcomes: WriteOutcome[] }> {
    if (writes.length === 0) return { ok: true, outcomes: [] };
    const owner = writes[0]!.owner;
    if (writes.some((w) => w.owner !== owner)) throw new Error('one write batch holds one owner');
    const ids = writes.map((w) => w.id);
    if (new Set(ids).size !== ids.length) throw new Error('one write batch holds each record once');
    try {
      const outcomes = await this.db.transaction(async (tx) => {
        // Lock in a fixed order so two overlapping batches cannot deadlock; one round trip.
        const keys = writes.map(lockKey).sort();
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(${sql.param(keys)}::text[]) as k order by k /* lockRecords */`,
        );
        const heads = new Map(
          (
            await tx
              .select()
              .from(records)
              .where(and(eq(records.owner, owner), inArray(records.id, ids)))
          ).map((h) => [h.id, h]),
        );
        const existing = new Map(
          (
            await tx
              .select({
                id: recordVersions.id,
                version: recordVersions.version,
                contentHash: recordVersions.contentHash,
                bytes: recordVersions.bytes,
                signature: recordVersions.signature,
              })
              .from(recordVersions)
              .where(and(eq(recordVersions.owner, owner), inArray(recordVersions.id, ids)))
          ).map((v) => [`${v.id}@${v.version}`, v]),
        );
        const versionRows: (typeof recordVersions.$inferInsert)[] = [];
        const headRows: (typeof records.$inferInsert)[] = [];
        const out: WriteOutcome[] = writes.map((w) => {
          const head = heads.get(w.id);
          if (head && head.kind !== w.kind) return { status: 'KIND_MISMATCH', currentVersion: head.version };
          if (!head && opts.mustExist) return { status: 'NOT_FOUND' };
          const same = existing.get(`${w.id}@${w.version}`);
          if (same) {
            if (same.contentHash !== w.contentHash) return { status: 'CONFLICT', currentVersion: head?.version ?? w.version };
            // The stored copy is handed back only when its signature still verifies.
            if (
              opts.checkStored &&
              !opts.checkStored({ kind: w.kind, owner, id: w.id, version: w.version, bytes: same.bytes, signature: same.signature })
            ) {
              return { status: 'INTEGRITY_FAULT', currentVersion: head?.version ?? w.version };
            }
            return { status: 'unchanged', bytes: same.bytes, signature: same.signature, state: head?.state ?? w.state };
          }
          if (head && w.version <= head.version) return { status: 'STALE_VERSION', currentVersion: head.version };
          if (head?.state === 'RETRACTED') return { status: 'RETRACTED', currentVersion: head.version };
          // A restriction outlives amendments: only unrestrict lifts it.
          const state = head?.state === 'RESTRICTED' && w.state === 'ACTIVE' ? 'RESTRICTED' : w.state;
          const { bytes, signature, kid } = w.render(now);
          versionRows.push({
            owner,
            id: w.id,
            version: w.version,
            kind: w.kind,
            contentHash: w.contentHash,
            bytes,
            signature,
            signingKid: kid,
            publishedAt: now,
          });
          headRows.push({ owner, id: w.id, kind: w.kind, version: w.version, state, ...nullIndex(w.index), updatedAt: now });
          return { status: 'stored', bytes, signature, state };
        });
        if (out.some((o) => o.status !== 'stored' && o.status !== 'unchanged')) throw new Rejected(out);
        if (versionRows.length > 0) {
          await tx.insert(recordVersions).values(versionRows);
          await tx
            .insert(records)
            .values(headRows)
            .onConflictDoUpdate({
              target: [records.owner, records.id],
              set: Object.fromEntries(HEAD_COLUMNS.map((c) => [c, sql.raw(`excluded.${toSnake(c)}`)])),
            });
          await opts.inTx?.(
            tx,
            headRows.map((h) => `${h.owner}/${h.id}`),
          );
        }
        return out;
      });
      return { ok: true, outcomes };
    } catch (err) {
      if (err instanceof Rejected) return { ok: false, outcomes: err.outcomes };
      throw err;
    }
  }

  /**
   * Signs again every stored version whose signature was made with `kid` (after that key is
   * revoked). The bytes never change; only the signature does. Returns how many were re-signed.
   */
  async resignByKid(
    owner: string,
    kid: string,
    sign: (bytes: string) => { signature: string; kid: string },
    batchSize = 500,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.db
        .select({ id: recordVersions.id, version: recordVersions.version, bytes: recordVersions.bytes })
        .from(recordVersions)
        .where(and(eq(recordVersions.owner, owner), eq(recordVersions.signingKid, kid)))
        .limit(batchSize);
      if (rows.length === 0) return total;
      await this.db.transaction(async (tx) => {
        for (const r of rows) {
          const signed = sign(r.bytes);
          if (signed.kid === kid) throw new Error('re-signing needs a different key from the revoked one');
          await tx
            .update(recordVersions)
            .set({ signature: signed.signature, signingKid: signed.kid })
            .where(and(eq(recordVersions.owner, owner), eq(recordVersions.id, r.id), eq(recordVersions.version, r.version)));
        }
      });
      total += rows.length;
    }
  }

  /** The indexed columns of a record's head row (to carry them over to a new version). */
  async headIndex(owner: string, id: string): Promise<RecordIndex | null> {
    const [h] = await this.db
      .select()
      .from(records)
      .where(and(eq(records.owner, owner), eq(records.id, id)));
    if (!h) return null;
    return {
      ownerReference: h.ownerReference,
      subjectRef: h.subjectRef,
      episodeStatus: h.episodeStatus,
      reportedAt: h.reportedAt,
      lat: h.lat,
      lon: h.lon,
      postcode: h.postcode,
      uprn: h.uprn,
      reviewAt: h.reviewAt,
      associateRefs: h.associateRefs,
    };
  }

  /** The current version of one record with its row, or null. */
  async current(owner: string, id: string, kind: string): Promise<StoredRow | null> {
    const rows = await this.db
      .select({ ...ROW, restrictionReason: records.restrictionReason })
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(and(eq(records.owner, owner), eq(records.id, id), eq(records.kind, kind)));
    return rows[0] ?? null;
  }

  /**
   * Moves a record between ACTIVE and RESTRICTED. Returns the record after the change, the
   * unchanged record when it is already in `to`, or null when it does not exist. A retracted
   * record cannot change state.
   */
  async setState(
    owner: string,
    id: string,
    kind: string,
    to: 'ACTIVE' | 'RESTRICTED',
    now: Date,
    reason: string | null = null,
    inTx?: InTx,
  ): Promise<{ record: StoredRow | null; changed: boolean; refused?: 'RETRACTED' }> {
    const from = to === 'RESTRICTED' ? 'ACTIVE' : 'RESTRICTED';
    const updated = await this.db.transaction(async (tx) => {
      const rows = await tx
        .update(records)
        .set({ state: to, restrictionReason: to === 'RESTRICTED' ? reason : null, updatedAt: now })
        .where(and(eq(records.owner, owner), eq(records.id, id), eq(records.kind, kind), eq(records.state, from)))
        .returning({ id: records.id });
      if (rows.length > 0) await inTx?.(tx, [`${owner}/${id}`]);
      return rows;
    });
    const record = await this.current(owner, id, kind);
    if (record?.state === 'RETRACTED') return { record, changed: false, refused: 'RETRACTED' };
    return { record, changed: updated.length > 0 };
  }

  /**
   * Current bytes of records of one kind, newest report first, keyset-paginated on
   * (reportedAt, id). `after` is the opaque cursor returned by the previous page.
   */
  async listCurrent(opts: {
    kind: string;
    owner: string;
    subjectRef?: string | null;
    first: number;
    after?: string | null;
    today: string;
    countGradings?: boolean;
  }): Promise<{
    records: StoredRow[];
    nextCursor: string | null;
    withheld: { restricted: number; reviewOverdue: number };
    gradings: { grading: Grading | null; count: number }[];
  }> {
    const cursor = opts.after ? decodeCursor(opts.after) : null;
    const rows = await this.db
      .select({ ...ROW, reportedAt: records.reportedAt })
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(
        and(
          // Only what may be read: not restricted, not retracted, not past its review date.
          readable(opts.kind, opts.owner, opts.today),
          opts.subjectRef ? eq(records.subjectRef, opts.subjectRef) : undefined,
          cursor
            ? or(lt(records.reportedAt, cursor.reportedAt), and(eq(records.reportedAt, cursor.reportedAt), lt(records.id, cursor.id)))
            : undefined,
        ),
      )
      .orderBy(desc(records.reportedAt), desc(records.id), asc(records.owner))
      .limit(opts.first + 1);
    const page = rows.slice(0, opts.first);
    const last = page[page.length - 1];
    const nextCursor = rows.length > opts.first && last?.reportedAt ? encodeCursor(last.reportedAt, last.id) : null;
    const [counts] = await this.db
      .select({
        restricted: sql<number>`count(*) filter (where ${records.state} = 'RESTRICTED')::int`,
        reviewOverdue: sql<number>`count(*) filter (where ${records.state} = 'ACTIVE' and ${records.reviewAt} < ${opts.today})::int`,
      })
      .from(records)
      .where(
        and(
          eq(records.kind, opts.kind),
          eq(records.owner, opts.owner),
          opts.subjectRef ? eq(records.subjectRef, opts.subjectRef) : undefined,
        ),
      );
    // On request, the readable records by their grading, so the caller can count what its
    // disclosure policy withholds across every page (a handful of groups, whatever the number).
    // Bytes changed into something that is not JSON count as ungraded here rather than failing
    // the list; reading them is an integrity fault (record-integrity.ts).
    const gradings = !opts.countGradings
      ? []
      : await this.db
          .select({
            grading: sql<Grading | null>`case when pg_input_is_valid(${recordVersions.bytes}, 'jsonb') then (${recordVersions.bytes}::jsonb)->'grading' end`,
            count: sql<number>`count(*)::int`,
          })
          .from(records)
          .innerJoin(
            recordVersions,
            and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
          )
          .where(and(readable(opts.kind, opts.owner, opts.today), opts.subjectRef ? eq(records.subjectRef, opts.subjectRef) : undefined))
          .groupBy(sql`1`);
    return {
      records: page.map(({ reportedAt: _at, ...row }) => row),
      nextCursor,
      withheld: { restricted: counts?.restricted ?? 0, reviewOverdue: counts?.reviewOverdue ?? 0 },
      gradings: gradings.map((g) => ({ grading: g.grading ?? null, count: g.count })),
    };
  }
}

/** Readable current records (active, not past review) of one owner and kind. */
function readable(kind: string, owner: string, today: string) {
  return and(eq(records.kind, kind), eq(records.owner, owner), eq(records.state, 'ACTIVE'), sql`${records.reviewAt} >= ${today}`);
}

export class RecordQueries {
  constructor(private readonly db: Database) {}

  /**
   * The readable episodes that name any of these associates (`owner/id`), by the indexed column;
   * the caller decides from their verified bytes, never from the column.
   */
  async episodesNaming(owner: string, associateRefs: readonly string[], today: string): Promise<StoredRow[]> {
    if (associateRefs.length === 0) return [];
    return this.db
      .select(ROW)
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(
        and(
          readable('episode', owner, today),
          sql`${records.associateRefs} && ARRAY[${sql.join(
            associateRefs.map((r) => sql`${r}`),
            sql`, `,
          )}]::text[]`,
        ),
      );
  }

  /** Readable records of a kind whose point lies in a box (the indexed bounding box; callers refine by distance). */
  /** This owner's records of a kind in a box that a reader may not see now: restricted, or past their review date. */
  async withheldInBox(
    kind: string,
    owner: string,
    box: { minLat: number; maxLat: number; minLon: number; maxLon: number },
    today: string,
    limit: number,
  ): Promise<StoredRow[]> {
    return this.db
      .select(ROW)
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(
        and(
          eq(records.kind, kind),
          eq(records.owner, owner),
          sql`(${records.state} = 'RESTRICTED' or (${records.state} = 'ACTIVE' and ${records.reviewAt} < ${today}))`,
          between(records.lat, box.minLat, box.maxLat),
          between(records.lon, box.minLon, box.maxLon),
        ),
      )
      .limit(limit);
  }

  async inBox(
    kind: string,
    owner: string,
    box: { minLat: number; maxLat: number; minLon: number; maxLon: number },
    today: string,
    limit: number,
  ): Promise<StoredRow[]> {
    const rows = await this.db
      .select(ROW)
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(and(readable(kind, owner, today), between(records.lat, box.minLat, box.maxLat), between(records.lon, box.minLon, box.maxLon)))
      .limit(limit);
    return rows;
  }
}

// The head columns an upsert refreshes (every one but the key).
const HEAD_COLUMNS = [
  'kind',
  'version',
  'state',
  'ownerReference',
  'subjectRef',
  'episodeStatus',
  'reportedAt',
  'lat',
  'lon',
  'postcode',
  'uprn',
  'reviewAt',
  'associateRefs',
  'updatedAt',
] as const;

function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function lockKey(w: { owner: string; id: string }): string {
  return `${w.owner}/${w.id}`;
}

function nullIndex(i: RecordIndex) {
  return {
    ownerReference: i.ownerReference,
    subjectRef: i.subjectRef ?? null,
    episodeStatus: i.episodeStatus ?? null,
    reportedAt: i.reportedAt ?? null,
    lat: i.lat ?? null,
    lon: i.lon ?? null,
    postcode: i.postcode ?? null,
    uprn: i.uprn ?? null,
    reviewAt: i.reviewAt ?? null,
    associateRefs: i.associateRefs ?? null,
  };
}

function encodeCursor(reportedAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([reportedAt.toISOString(), id])).toString('base64url');
}

/** Throws InvalidCursorError on anything that is not a cursor this node issued. */
export function decodeCursor(cursor: string): { reportedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const reportedAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(reportedAt.getTime())) throw new Error('bad cursor');
    return { reportedAt, id };
  } catch {
    throw new InvalidCursorError();
  }
}

export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this node issued');
    this.name = 'InvalidCursorError';
  }
}
