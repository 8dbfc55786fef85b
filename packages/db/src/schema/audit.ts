import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The audit log: one hash-chained row per audited action (DPA 2018 s62). The application's
 * role may only SELECT and INSERT here (see the grants migration). `entry` is the validated
 * entry that was hashed; the auditors' filters read it (through the expression indexes below),
 * never the plain columns. Those are copies of entry fields for SQL, written from the entry
 * (`entryColumns` in @mcx/audit); every integrity check compares them with the entry.
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
  // `entry->>'at'` is ISO 8601 with milliseconds in UTC (the entry validates it), so its byte order
  // ("C" collation) is time order.
  (t) => [
    index('audit_entries_entry_at_idx').on(sql`(${t.entry}->>'at') collate "C"`),
    index('audit_entries_entry_actor_idx').on(sql`(${t.entry}->'actor'->>'subject')`, sql`(${t.entry}->>'at') collate "C"`),
    index('audit_entries_entry_case_idx').on(sql`(${t.entry}->>'caseRef')`),
    index('audit_entries_entry_records_idx').using('gin', sql`(${t.entry}->'recordIds') jsonb_path_ops`),
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
export const auditReceipts = pgTable(
  'audit_receipts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    peer: text().notNull(),
    peerEntryId: text().notNull(),
    /** The peer's signed disclosure receipt (its entry id and its latest signed checkpoint). */
    receiptJws: text().notNull(),
    ourSeq: bigint({ mode: 'number' }),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // One member's receipts in order, for its auditors (GET /audit/receipts): migration 0020.
  (t) => [index('audit_receipts_peer_id_idx').on(t.peer, t.id)],
);

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
