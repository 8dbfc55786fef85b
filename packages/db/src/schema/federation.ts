import { check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The highest trust-manifest version this node has ever accepted, and that manifest's JWS.
 * One row. A restart reads it, so a node can never be rolled back to an older manifest.
 */
export const manifestState = pgTable(
  'manifest_state',
  {
    id: integer().primaryKey().default(1),
    highestVersion: integer().notNull(),
    manifestJws: text(),
    acceptedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('manifest_state_singleton', sql`${t.id} = 1`)],
);
