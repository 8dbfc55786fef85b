import { fileURLToPath } from 'node:url';

import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

import { commitDurability, isDurable, notDurableError } from '@mcx/db';

import * as schema from './schema.js';

export { schema };

/** The linkage service's committed drizzle-kit migrations (its own set: a node's database never holds these tables). */
export const LINKAGE_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Its own journal table, so a linkage database is never mistaken for a node's, nor the reverse. */
const MIGRATIONS_TABLE = '__linkage_migrations';

// Not the node's migration lock: a linkage database may sit on the same server as nodes'.
const MIGRATION_LOCK = 7364812;

export type LinkageDatabase = PostgresJsDatabase<typeof schema>;

/** A pool on the linkage service's database. */
export interface LinkageDb {
  db: LinkageDatabase;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** Opens a pool on `url` with the `postgres` driver, wrapped in drizzle (snake_case). */
export function openLinkageDb(url: string, options: { max?: number } = {}): LinkageDb {
  const sql = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connection: { application_name: 'mcx-linkage' } });
  const db = drizzle({ client: sql, schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * Refuses a database whose commits do not wait for their WAL to reach disk (synchronous_commit
 * off, or fsync off). A used node token's row commits without its own flush
 * (ReplayStore.firstUse), made durable by the rate-bucket take that commits after it. The take
 * forces its own flush whatever the session says (DURABLE_COMMIT_SQL), but nothing can with
 * fsync off; and a database set that way at start is an operator's mistake worth stopping on.
 */
export async function assertDurableCommits(store: Pick<LinkageDb, 'sql'>): Promise<void> {
  const durability = await commitDurability(store.sql);
  if (!isDurable(durability)) throw notDurableError(durability, 'a used node token could be used again after a crash');
}

/** Applies every pending linkage migration to the database at `url`. Safe when replicas start together. */
export async function migrateLinkageDatabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle({ client: sql }), { migrationsFolder: LINKAGE_MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE });
  } finally {
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    await sql.end({ timeout: 5 });
  }
}
