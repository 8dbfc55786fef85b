import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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

/**
 * Node tokens already used (their `jti`, per calling member), so a replayed token is refused.
 * Shared by every replica of a node through its database. Rows past their expiry (plus the
 * clock leeway) are deleted by the node: after that the token itself is refused as expired.
 */
export const peerTokenJtis = pgTable(
  'peer_token_jtis',
  {
    issuer: text().notNull(),
    jti: text().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.jti] }), index('peer_token_jtis_expires_idx').on(t.expiresAt)],
);
