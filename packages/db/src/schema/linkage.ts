import { date, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A subject (child) this force has published identity for: only its force reference and
 * review date. Its identity lives only as linkage keys below; never a name or identifier.
 */
export const subjects = pgTable(
  'subjects',
  {
    owner: text().notNull(),
    subjectRef: text().notNull(),
    reviewAt: date().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.owner, t.subjectRef] })],
);

/**
 * Linkage keys (OPRF outputs) of subjects and associates. They identify a person as surely as
 * a name does: never signed, never disclosed, never logged; the audit log holds only a keyed
 * digest. `holder` is the subjectRef, or the associate record's id.
 */
export const linkageKeys = pgTable(
  'linkage_keys',
  {
    owner: text().notNull(),
    holderKind: text().notNull(),
    holder: text().notNull(),
    keyKind: text().notNull(),
    strength: text().notNull(),
    keyVersion: text().notNull(),
    normalisationVersion: text().notNull(),
    key: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.owner, t.holderKind, t.holder, t.keyVersion, t.keyKind, t.key] }),
    index('linkage_keys_key_idx').on(t.keyVersion, t.key),
  ],
);
