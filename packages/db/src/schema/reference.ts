import { pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Reference data: police forces and children's services authorities, with the police area
 * each authority lies in (an out-of-area placement is one whose placing authority lies
 * outside the host force's area). Seeded by a migration.
 */
export const refOrganisations = pgTable('ref_organisations', {
  code: text().primaryKey(),
  name: text().notNull(),
  kind: text().notNull(),
  policeArea: text().notNull(),
});
