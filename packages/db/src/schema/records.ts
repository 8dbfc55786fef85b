import { sql } from 'drizzle-orm';
import { bigint, date, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per record (owner, id): its current version and the columns the node filters on.
 * The record itself lives in `record_versions` as the exact bytes that were signed; nothing
 * here is ever used to rebuild a record for disclosure.
 */
export const records = pgTable(
  'records',
  {
    owner: text().notNull(),
    id: text().notNull(),
    kind: text().notNull(),
    version: integer().notNull(),
    state: text().notNull(),
    /** Why the owner restricted the record (DPA 2018 s47); null unless RESTRICTED. */
    restrictionReason: text(),
    ownerReference: text().notNull(),
    subjectRef: text(),
    episodeStatus: text(),
    reportedAt: timestamp({ withTimezone: true }),
    lat: doublePrecision(),
    lon: doublePrecision(),
    postcode: text(),
    uprn: text(),
    reviewAt: date(),
    /** An episode's associates, as `owner/id`: which children an associate is linked to. */
    associateRefs: text().array(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.owner, t.id] }),
    index('records_kind_subject_idx').on(t.kind, t.owner, t.subjectRef),
    index('records_reported_idx').on(t.kind, t.reportedAt),
    index('records_geo_idx')
      .on(t.lat, t.lon)
      .where(sql`${t.lat} is not null`),
    index('records_associate_refs_idx').using('gin', t.associateRefs),
  ],
);

/** Every version of every record, as the exact canonical bytes that were (or will be) signed. */
export const recordVersions = pgTable(
  'record_versions',
  {
    owner: text().notNull(),
    id: text().notNull(),
    version: integer().notNull(),
    kind: text().notNull(),
    contentHash: text().notNull(),
    bytes: text().notNull(),
    signature: text().notNull(),
    /** kid of the key that made `signature`: re-signing after a revocation finds records by it. */
    signingKid: text().notNull(),
    publishedAt: timestamp({ withTimezone: true }).notNull(),
    storedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity(),
  },
  (t) => [primaryKey({ columns: [t.owner, t.id, t.version] }), index('record_versions_kid_idx').on(t.signingKid)],
);
