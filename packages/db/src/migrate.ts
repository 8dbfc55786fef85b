import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';

/** The committed drizzle-kit migrations shipped with this package. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies every pending migration to the database at `url`. Safe to run concurrently. */
export async function runMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // One migrator at a time across replicas starting together.
    await sql`select pg_advisory_lock(7364811)`;
    await migrate(drizzle({ client: sql }), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await sql`select pg_advisory_unlock(7364811)`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

/** How many migrations the code expects, from the committed journal. */
export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Compares applied migrations with the journal; `current` is what /readyz reports. */
export async function migrationStatus(sql: postgres.Sql): Promise<{ applied: number; expected: number; current: boolean }> {
  const expected = expectedMigrationCount();
  let applied = 0;
  try {
    const rows = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    applied = rows[0]?.n ?? 0;
  } catch {
    applied = 0;
  }
  return { applied, expected, current: applied === expected };
}
