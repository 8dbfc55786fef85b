import { and, asc, between, desc, eq, lt, or, sql, type Placeholder } from 'drizzle-orm';

import { arrayParam, schema, type Database } from '@mcx/db';

import type { Grading } from './grading.js';
import type { RecordIndex, StoredRow } from './record-store-model.js';

const { records, recordVersions } = schema;

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

/** A record's row joined to its current version's bytes. */
const CURRENT_VERSION = and(
  eq(recordVersions.owner, records.owner),
  eq(recordVersions.id, records.id),
  eq(recordVersions.version, records.version),
);

/** Readable current records (active, not past review) of one owner and kind (values, or a prepared query's placeholders). */
function readable(kind: string | Placeholder, owner: string | Placeholder, today: string | Placeholder) {
  return and(eq(records.kind, kind), eq(records.owner, owner), eq(records.state, 'ACTIVE'), sql`${records.reviewAt} >= ${today}`);
}

const p = sql.placeholder;

/**
 * What a page withheld (restricted, and active past review, of the same owner, kind and subject),
 * on each of its rows: subqueries that do not depend on the row, so the server counts once per
 * statement, and a page is one round trip. An empty page carries none: countQuery counts then.
 * Written out (drizzle names neither an alias's table nor its columns inside a subquery).
 */
function withheldOnRows(subject: boolean) {
  const scope = subject
    ? sql`same_scope.kind = ${p('kind')} and same_scope.owner = ${p('owner')} and same_scope.subject_ref = ${p('subjectRef')}`
    : sql`same_scope.kind = ${p('kind')} and same_scope.owner = ${p('owner')}`;
  return {
    withheldRestricted: sql<number>`(select count(*)::int from records same_scope where ${scope} and same_scope.state = 'RESTRICTED')`,
    withheldReviewOverdue: sql<number>`(select count(*)::int from records same_scope where ${scope} and same_scope.state = 'ACTIVE' and same_scope.review_at < ${p('today')})`,
  };
}

/**
 * A page of readable current records of one owner and kind, newest report first, keyset-paginated
 * on (reportedAt, id), with what it withheld: built once per shape and run as a prepared
 * statement, so each page costs one round trip and no query building.
 */
function pageQuery(db: Database, subject: boolean, cursor: boolean, shape: string) {
  return db
    .select({ ...ROW, reportedAt: records.reportedAt, ...withheldOnRows(subject) })
    .from(records)
    .innerJoin(recordVersions, CURRENT_VERSION)
    .where(
      and(
        // Only what may be read: not restricted, not retracted, not past its review date.
        readable(p('kind'), p('owner'), p('today')),
        subject ? eq(records.subjectRef, p('subjectRef')) : undefined,
        cursor
          ? or(lt(records.reportedAt, p('cursorAt')), and(eq(records.reportedAt, p('cursorAt')), lt(records.id, p('cursorId'))))
          : undefined,
      ),
    )
    .orderBy(desc(records.reportedAt), desc(records.id), asc(records.owner))
    .limit(p('limit'))
    .prepare(`records_page_${shape}`);
}

/** What listCurrent withheld: restricted and past-review records of the same owner, kind (and subject). */
function countQuery(db: Database, subject: boolean) {
  return db
    .select({
      restricted: sql<number>`count(*) filter (where ${records.state} = 'RESTRICTED')::int`,
      reviewOverdue: sql<number>`count(*) filter (where ${records.state} = 'ACTIVE' and ${records.reviewAt} < ${p('today')})::int`,
    })
    .from(records)
    .where(and(eq(records.kind, p('kind')), eq(records.owner, p('owner')), subject ? eq(records.subjectRef, p('subjectRef')) : undefined))
    .prepare(`records_withheld_${subject}`);
}

/**
 * Records of one owner and kind whose point lies in a box: readable ones, or (`withheld`) those a
 * reader may not see now (restricted, or past their review date). Prepared once, like the pages.
 */
function boxQuery(db: Database, withheld: boolean) {
  const state = withheld
    ? and(
        eq(records.kind, p('kind')),
        eq(records.owner, p('owner')),
        sql`(${records.state} = 'RESTRICTED' or (${records.state} = 'ACTIVE' and ${records.reviewAt} < ${p('today')}))`,
      )
    : readable(p('kind'), p('owner'), p('today'));
  return db
    .select(ROW)
    .from(records)
    .innerJoin(recordVersions, CURRENT_VERSION)
    .where(and(state, between(records.lat, p('minLat'), p('maxLat')), between(records.lon, p('minLon'), p('maxLon'))))
    .limit(p('limit'))
    .prepare(`records_in_box_${withheld}`);
}

type Box = { minLat: number; maxLat: number; minLon: number; maxLon: number };

/** The read-side queries that need no transaction. */
export class RecordQueries {
  constructor(private readonly db: Database) {}

  // listCurrent's queries (the page, and the counts for an empty page), prepared once per shape.
  readonly #pages = new Map<string, ReturnType<typeof pageQuery>>();
  readonly #counts = new Map<boolean, ReturnType<typeof countQuery>>();
  readonly #boxes = new Map<boolean, ReturnType<typeof boxQuery>>();

  #inBox(withheld: boolean, kind: string, owner: string, box: Box, today: string, limit: number): Promise<StoredRow[]> {
    let query = this.#boxes.get(withheld);
    if (!query) this.#boxes.set(withheld, (query = boxQuery(this.db, withheld)));
    return query.execute({ kind, owner, today, limit, ...box });
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
      .innerJoin(recordVersions, CURRENT_VERSION)
      .where(and(eq(records.owner, owner), eq(records.id, id), eq(records.kind, kind)));
    return rows[0] ?? null;
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
    const subject = !!opts.subjectRef;
    const shape = `${subject}/${!!cursor}`;
    let listed = this.#pages.get(shape);
    if (!listed) this.#pages.set(shape, (listed = pageQuery(this.db, subject, !!cursor, shape)));
    const rows = await listed.execute({
      kind: opts.kind,
      owner: opts.owner,
      today: opts.today,
      subjectRef: opts.subjectRef ?? null,
      cursorAt: cursor?.reportedAt.toISOString() ?? null,
      cursorId: cursor?.id ?? null,
      limit: opts.first + 1,
    });
    const page = rows.slice(0, opts.first);
    const last = page[page.length - 1];
    const nextCursor = rows.length > opts.first && last?.reportedAt ? encodeCursor(last.reportedAt, last.id) : null;
    // Counted on the page's rows; an empty page carries no row to count on.
    let counts: { restricted: number; reviewOverdue: number } | undefined = rows[0]
      ? { restricted: rows[0].withheldRestricted, reviewOverdue: rows[0].withheldReviewOverdue }
      : undefined;
    if (!counts) {
      let counted = this.#counts.get(subject);
      if (!counted) this.#counts.set(subject, (counted = countQuery(this.db, subject)));
      [counts] = await counted.execute({ kind: opts.kind, owner: opts.owner, today: opts.today, subjectRef: opts.subjectRef ?? null });
    }
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
          .innerJoin(recordVersions, CURRENT_VERSION)
          .where(and(readable(opts.kind, opts.owner, opts.today), opts.subjectRef ? eq(records.subjectRef, opts.subjectRef) : undefined))
          .groupBy(sql`1`);
    return {
      records: page.map(({ reportedAt: _at, withheldRestricted: _r, withheldReviewOverdue: _o, ...row }) => row),
      nextCursor,
      withheld: { restricted: counts?.restricted ?? 0, reviewOverdue: counts?.reviewOverdue ?? 0 },
      gradings: gradings.map((g) => ({ grading: g.grading ?? null, count: g.count })),
    };
  }

  /**
   * The readable episodes that name any of these associates (`owner/id`), by the indexed column;
   * the caller decides from their verified bytes, never from the column.
   */
  async episodesNaming(owner: string, associateRefs: readonly string[], today: string): Promise<StoredRow[]> {
    if (associateRefs.length === 0) return [];
    return this.db
      .select(ROW)
      .from(records)
      .innerJoin(recordVersions, CURRENT_VERSION)
      .where(and(readable('episode', owner, today), sql`${records.associateRefs} && ${arrayParam(associateRefs, 'text')}`));
  }

  /** This owner's records of a kind in a box that a reader may not see now: restricted, or past their review date. */
  withheldInBox(kind: string, owner: string, box: Box, today: string, limit: number): Promise<StoredRow[]> {
    return this.#inBox(true, kind, owner, box, today, limit);
  }

  /** Readable records of a kind whose point lies in a box (the indexed bounding box; callers refine by distance). */
  inBox(kind: string, owner: string, box: Box, today: string, limit: number): Promise<StoredRow[]> {
    return this.#inBox(false, kind, owner, box, today, limit);
  }
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
