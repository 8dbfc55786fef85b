import { sql } from 'drizzle-orm';
import { boolean, check, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

// The linkage service's own tables, in its own database (never a node's): what its replicas
// must agree on. Migrations: services/linkage/migrations (`npm run db:generate -w @mcx/linkage-service`).

/**
 * One token bucket per member, counted in linkage keys. `lastGranted` says whether the last
 * take was served, so one INSERT ... ON CONFLICT DO UPDATE can decide and report it.
 */
export const linkageRateBuckets = pgTable('linkage_rate_buckets', {
  member: text().primaryKey(),
  tokens: doublePrecision().notNull(),
  refilledAt: timestamp({ withTimezone: true }).notNull(),
  lastGranted: boolean().notNull(),
});

/** Node tokens already used (`jti`, per member) until they expire, so a replay is refused by every replica. */
export const linkageTokenJtis = pgTable(
  'linkage_token_jtis',
  {
    member: text().notNull(),
    jti: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.member, t.jti] }), index('linkage_token_jtis_expires_idx').on(t.expiresAt)],
);

/** The highest trust manifest version any replica has accepted: the rollback floor. */
export const linkageManifestState = pgTable(
  'linkage_manifest_state',
  {
    id: integer().primaryKey().default(1),
    highestVersion: integer().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('linkage_manifest_state_singleton', sql`${t.id} = 1`)],
);
