import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The audit log: one hash-chained row per audited action (DPA 2018 s62). The application's
 * role may only SELECT and INSERT here (see the grants migration); `entry` is the validated
 * entry that was hashed, the other columns are copies for the auditors' filters.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    seq: bigint({ mode: 'number' }).primaryKey(),
    prevHash: text().notNull(),
    hash: text().notNull(),
    at: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    action: text().notNull(),
    actorSubject: text().notNull(),
    actorForce: text().notNull(),
    requestingNode: text(),
    purpose: text(),
    caseRef: text(),
    outcome: text().notNull(),
    recordIds: text().array().notNull(),
    entry: jsonb().notNull(),
  },
  (t) => [
    index('audit_entries_at_idx').on(t.at),
    index('audit_entries_actor_idx').on(t.actorSubject, t.at),
    index('audit_entries_case_idx').on(t.caseRef),
    index('audit_entries_records_idx').using('gin', t.recordIds),
  ],
);

/** Signed checkpoints of the chain: (size, head hash), signed with the audit-checkpoint key. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  size: bigint({ mode: 'number' }).primaryKey(),
  headHash: text().notNull(),
  jws: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Other nodes' signed checkpoints, received as disclosure receipts: witnesses of their logs. */
export const auditReceipts = pgTable('audit_receipts', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  peer: text().notNull(),
  peerEntryId: text().notNull(),
  /** The peer's signed disclosure receipt (its entry id and its latest signed checkpoint). */
  receiptJws: text().notNull(),
  ourSeq: bigint({ mode: 'number' }),
  receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Unauthenticated noise (missing or refused tokens), kept apart from the audit chain and
 * rate-limited, so it can neither flood nor dilute the chain.
 */
export const securityEvents = pgTable(
  'security_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    at: timestamp({ withTimezone: true }).notNull(),
    kind: text().notNull(),
    reason: text().notNull(),
    source: text().notNull(),
    /** Events of this kind from this source folded into this row by the rate limiter. */
    count: integer().notNull().default(1),
  },
  (t) => [index('security_events_at_idx').on(t.at)],
);
