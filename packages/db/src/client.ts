import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;

export interface DbHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** The role the node acts as: it may only read and append the audit tables. */
export const APP_ROLE = 'mcx_app';

/**
 * Opens a pool on `url` with the `postgres` driver and wraps it in drizzle (snake_case).
 * With `role`, every connection acts as that role (a startup parameter), whatever the login.
 * `prepare: false` behind a pooler in transaction mode.
 */
export function createDb(
  url: string,
  options: { max?: number; applicationName?: string; role?: string | null; prepare?: boolean } = {},
): DbHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    // Named prepared statements live on one server connection: PgBouncer in transaction mode
    // (before 1.21's max_prepared_statements) hands the next query another one, so turn them off there.
    prepare: options.prepare ?? true,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'mcx-node', ...(options.role ? { role: options.role } : {}) },
  });
  const db = drizzle({ client: sql, schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
