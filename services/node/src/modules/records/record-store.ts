import { and, asc, eq, sql } from 'drizzle-orm';

import { anyOf, schema, type Database } from '@mcx/db';

import { RecordQueries } from './record-queries.js';
import type { InTx, RecordIndex, StoredRow, StoredVersionCheck, VersionWrite, WriteOutcome } from './record-store-model.js';

const { records, recordVersions } = schema;

/** A rollback that carries the per-record outcomes out of the transaction. */
class Rejected extends Error {
  constructor(readonly outcomes: WriteOutcome[]) {
    super('batch rejected');
  }
}

/**
 * SQL for writing records: versioned, idempotent writes, re-signing and state changes. Callers
 * hand in validated, rendered records; this layer decides only what the version rules say.
 * Reads of stored bytes are RecordQueries (queries()).
 */
export class RecordStore {
  private readonly reads: RecordQueries;

  constructor(private readonly db: Database) {
    this.reads = new RecordQueries(db);
  }

  /** The read-side queries that need no transaction. */
  queries(): RecordQueries {
    return this.reads;
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
              .where(and(eq(records.owner, owner), anyOf(records.id, ids, 'text')))
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
              .where(and(eq(recordVersions.owner, owner), anyOf(recordVersions.id, ids, 'text')))
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
   * Signs again every version of `owner`'s records signed with `kid`, in batches. `sign` sees each
   * row as stored and returns the new signature, or null to leave the row as it is (its stored
   * signature did not check out): such rows are skipped, never retried, and returned.
   */
  async resignByKid(
    owner: string,
    kid: string,
    sign: (row: { kind: string; owner: string; id: string; version: number; bytes: string; signature: string }) => {
      signature: string;
      kid: string;
    } | null,
    batchSize = 500,
  ): Promise<{ resigned: number; refused: { id: string; version: number }[] }> {
    let resigned = 0;
    const refused: { id: string; version: number }[] = [];
    let after: { id: string; version: number } | null = null;
    for (;;) {
      const v = recordVersions;
      const rows = await this.db
        .select({ kind: v.kind, owner: v.owner, id: v.id, version: v.version, bytes: v.bytes, signature: v.signature })
        .from(v)
        .where(
          and(
            eq(v.owner, owner),
            eq(v.signingKid, kid),
            after ? sql`(${v.id}, ${v.version}) > (${after.id}, ${after.version})` : undefined,
          ),
        )
        .orderBy(asc(v.id), asc(v.version))
        .limit(batchSize);
      if (rows.length === 0) return { resigned, refused };
      await this.db.transaction(async (tx) => {
        for (const r of rows) {
          const signed = sign(r);
          if (signed === null) {
            refused.push({ id: r.id, version: r.version });
            continue;
          }
          if (signed.kid === kid) throw new Error('re-signing needs a different key from the revoked one');
          await tx
            .update(v)
            .set({ signature: signed.signature, signingKid: signed.kid })
            .where(and(eq(v.owner, owner), eq(v.id, r.id), eq(v.version, r.version), eq(v.signingKid, kid)));
          resigned += 1;
        }
      });
      after = rows.at(-1)!;
    }
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
    const record = await this.reads.current(owner, id, kind);
    if (record?.state === 'RETRACTED') return { record, changed: false, refused: 'RETRACTED' };
    return { record, changed: updated.length > 0 };
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
