import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** drizzle over the pool; `$client` is the pool as drizzle sees it (every query a named statement, see `preparing`). */
export type Database = PostgresJsDatabase<Schema> & { $client: postgres.Sql };

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
  const db = drizzle({ client: preparing(sql), schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * The pool as drizzle sees it: every query asks for a named (prepared) statement.
 *
 * drizzle's postgres-js session asks for one only for queries built with `.prepare(name)`. Every
 * other query goes unnamed, which postgres.js sends as Parse and Describe, waits for the
 * parameter types, then sends Bind and Execute: two round trips, and a fresh parse and plan on the
 * server, for every query. Named, a statement is parsed once per connection and each later
 * execution is one round trip (postgres.js's own default for its tagged templates).
 * `prepare: false` on the pool still wins (postgres.js checks it first), so behind a pooler in
 * transaction mode nothing changes. Transactions and savepoints hand drizzle the same view.
 */
function preparing<T extends Pick<postgres.Sql, 'unsafe'>>(sql: T): T {
  type Open = (...args: unknown[]) => unknown;
  const unsafe: postgres.Sql['unsafe'] = (query, parameters, options) => sql.unsafe(query, parameters, { ...options, prepare: true });
  const inScope =
    (open: Open): Open =>
    (...args) => {
      const fn = args.pop() as (tx: T) => unknown;
      return open(...args, (tx: T) => fn(preparing(tx)));
    };
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') return unsafe;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'begin' || prop === 'savepoint') && typeof value === 'function') return inScope((value as Open).bind(target));
      return value;
    },
  });
}
