import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

import { McxError } from '@mcx/errors';

import { DatabaseErrorCode } from './db-errors.js';

/** The committed drizzle-kit migrations shipped with this package. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Applies every pending migration to the database at `url`. Safe to run concurrently. With
 * nothing pending it only reads the journal table, so the node's least-privilege login may
 * call it; with migrations pending, a login that may not apply them gets MIGRATIONS_NOT_PERMITTED.
 * Returns how many were pending (0: the database was current).
 */
export async function runMigrations(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const before = await migrationStatus(sql);
    if (before.applied >= before.expected) return 0;
    // One migrator at a time across replicas starting together.
    await sql`select pg_advisory_lock(7364811)`;
    try {
      await migrate(drizzle({ client: sql }), { migrationsFolder: MIGRATIONS_FOLDER });
      return before.expected - before.applied;
    } catch (err) {
      if (sqlState(err) !== '42501') throw err;
      const [who] = await sql<{ login: string }[]>`select session_user::text as login`.catch(() => [{ login: '?' }]);
      const pending = before.expected - before.applied;
      // The first migrations create mcx_app, and PostgreSQL checks CREATEROLE even when it exists.
      if (/create role/i.test(driverMessage(err)))
        throw new McxError(
          DatabaseErrorCode.MIGRATIONS_NOT_PERMITTED,
          `"${who!.login}" may not create roles, and the migrations create mcx_app: give the schema owner CREATEROLE (as a superuser: ALTER ROLE "${who!.login}" CREATEROLE;), then run \`mcx db migrate\` again (deploy/runbook.md, "Database roles")`,
          { cause: err },
        );
      throw new McxError(
        DatabaseErrorCode.MIGRATIONS_NOT_PERMITTED,
        `${pending} migration${pending === 1 ? ' is' : 's are'} pending and "${who!.login}" may not apply them: run them as the schema owner (MCX_MIGRATION_DATABASE_URL, or \`mcx db migrate\` with DATABASE_URL set to the owner; see deploy/runbook.md)`,
        { cause: err },
      );
    } finally {
      await sql`select pg_advisory_unlock(7364811)`.catch(() => {});
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The SQLSTATE of a driver error, or of the error a drizzle query error wraps. */
function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The server's own message (it names privileges and objects, never a value), under drizzle's wrapper. */
function driverMessage(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof message === 'string') return message;
  }
  return '';
}

/** How many migrations the code expects, from the committed journal. */
export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/**
 * Compares applied migrations with the journal; `current` is what /readyz reports. A database
 * with no journal yet (or one this login may not read) has 0 applied; any other failure (the
 * database refusing connections, a broken connection) is thrown, never reported as 0 applied.
 */
export async function migrationStatus(sql: postgres.Sql): Promise<{ applied: number; expected: number; current: boolean }> {
  const expected = expectedMigrationCount();
  let applied = 0;
  try {
    const rows = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    applied = rows[0]?.n ?? 0;
  } catch (err) {
    // 42P01 undefined_table, 3F000 invalid_schema_name, 42501 insufficient_privilege.
    if (!['42P01', '3F000', '42501'].includes(sqlState(err) ?? '')) throw err;
    applied = 0;
  }
  return { applied, expected, current: applied === expected };
}
