import type postgres from 'postgres';

import { McxError } from '@mcx/errors';

import { DatabaseErrorCode } from './db-errors.js';

/** What a connection's commits wait for: `synchronous_commit` as its login and database set it. */
export interface CommitDurability {
  login: string;
  database: string;
  /** on, remote_write, remote_apply and local wait for a WAL flush; off does not. */
  synchronousCommit: string;
}

/** Reads the durability of the commits made on `sql`'s connections. */
export async function commitDurability(sql: postgres.Sql): Promise<CommitDurability> {
  const [row] = await sql<CommitDurability[]>`
    select session_user::text as login, current_database()::text as database,
      current_setting('synchronous_commit') as "synchronousCommit"`;
  if (!row || typeof row.synchronousCommit !== 'string') throw new Error('synchronous_commit could not be read');
  return row;
}

/** Whether a commit waits for its WAL flush (only `off` does not). */
export const isDurable = (d: CommitDurability): boolean => d.synchronousCommit !== 'off';

/** The statements that make the commits durable again. */
export function durabilityFix(d: CommitDurability): string {
  return `ALTER ROLE "${d.login}" RESET synchronous_commit; and ALTER DATABASE "${d.database}" RESET synchronous_commit; (on, remote_write and remote_apply are all durable)`;
}

/** Commits that do not wait for their flush, with what that would lose (`risk`) and the fix. */
export function notDurableError(d: CommitDurability, risk: string): McxError {
  return new McxError(
    DatabaseErrorCode.DATABASE_NOT_DURABLE,
    `synchronous_commit is off for the login "${d.login}" or the database "${d.database}": ${risk}. Run ${durabilityFix(d)}`,
  );
}
