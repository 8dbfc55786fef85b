import type postgres from 'postgres';

import { McxError } from '@mcx/errors';

import { DatabaseErrorCode } from './db-errors.js';

/** What a connection's commits wait for, and where that was set. */
export interface CommitDurability {
  /** The login and database, quoted as SQL identifiers (quote_ident), to paste into a fix. */
  login: string;
  database: string;
  /** on, remote_write, remote_apply and local wait for a WAL flush; off does not. */
  synchronousCommit: string;
  /** Where synchronous_commit was set (pg_settings.source: default, configuration file, database, user, database user, client...). */
  source: string;
  /** off: the server never forces its writes to disk, so no commit is durable. */
  fsync: string;
  /** Where fsync was set (a server setting: configuration file, command line...). */
  fsyncSource: string;
}

/** Reads the durability of the commits made on `sql`'s connections. */
export async function commitDurability(sql: postgres.Sql): Promise<CommitDurability> {
  const [row] = await sql<CommitDurability[]>`
    select quote_ident(session_user) as login, quote_ident(current_database()) as database,
      current_setting('synchronous_commit') as "synchronousCommit",
      (select source from pg_settings where name = 'synchronous_commit') as source,
      current_setting('fsync') as fsync,
      (select source from pg_settings where name = 'fsync') as "fsyncSource"`;
  if (!row || typeof row.synchronousCommit !== 'string' || typeof row.fsync !== 'string') {
    throw new Error('synchronous_commit and fsync could not be read');
  }
  return row;
}

/** Whether a commit waits for its WAL to reach disk. */
export const isDurable = (d: CommitDurability): boolean => d.synchronousCommit !== 'off' && d.fsync === 'on';

/** What commits wait for, in words: why they are not durable, or what makes them so. */
export function describeDurability(d: CommitDurability): string {
  if (d.fsync !== 'on') return 'fsync is off for the server: nothing it writes is forced to disk';
  if (d.synchronousCommit === 'off') return `synchronous_commit is off (set by ${settingSource(d.source)})`;
  return `commits wait for their WAL flush (synchronous_commit ${d.synchronousCommit})`;
}

function settingSource(source: string): string {
  switch (source) {
    case 'user':
      return 'the login';
    case 'database':
      return 'the database';
    case 'database user':
      return 'the login in this database';
    case 'global':
      return 'every login (ALTER ROLE ALL)';
    case 'client':
      return 'the connection: DATABASE_URL';
    case 'session':
      return 'a SET in the session';
    case 'command line':
      return "the server's start command";
    case 'configuration file':
      return "the server's configuration";
    default:
      return `the server (${source})`;
  }
}

/** How to undo a server setting, by where it was set. */
function serverFix(name: string, source: string, restart: 'reload' | 'restart'): string {
  if (source === 'command line') return `take -c ${name}=off out of the server's start command (or its container's) and restart it`;
  return `set ${name} = on in postgresql.conf (or ALTER SYSTEM RESET ${name}) and ${restart} the server`;
}

/** What to run so that commits are durable again, where the setting came from. */
export function durabilityFix(d: CommitDurability): string {
  if (d.fsync !== 'on') return serverFix('fsync', d.fsyncSource, 'restart');
  const durable = '(on, remote_write and remote_apply are all durable)';
  switch (d.source) {
    case 'user':
      return `ALTER ROLE ${d.login} RESET synchronous_commit; ${durable}`;
    case 'database':
      return `ALTER DATABASE ${d.database} RESET synchronous_commit; ${durable}`;
    case 'database user':
      return `ALTER ROLE ${d.login} IN DATABASE ${d.database} RESET synchronous_commit; ${durable}`;
    case 'global':
      return `ALTER ROLE ALL RESET synchronous_commit; ${durable}`;
    case 'client':
      return `take synchronous_commit out of DATABASE_URL (a query parameter, or -c in options) ${durable}`;
    case 'session':
      return `find what runs SET synchronous_commit on the node's connections (a pooler's connect query, say) and stop it ${durable}`;
    default:
      return `${serverFix('synchronous_commit', d.source, 'reload')} ${durable}`;
  }
}

/** Commits that do not wait for their flush, with what that would lose (`risk`) and the fix. */
export function notDurableError(d: CommitDurability, risk: string): McxError {
  return new McxError(
    DatabaseErrorCode.DATABASE_NOT_DURABLE,
    `commits on the database ${d.database} as ${d.login} are not durable: ${describeDurability(d)}; ${risk}. Fix: ${durabilityFix(d)}`,
  );
}

/**
 * A select-list expression that makes the commit of the transaction it runs in durable when the
 * session's synchronous_commit is off (for that transaction alone), and leaves on, local,
 * remote_write and remote_apply as they are. For the writes a guarantee rests on (an audit entry,
 * a rate-bucket take): they stay durable even if the setting is turned off after the start check.
 */
export const DURABLE_COMMIT_SQL =
  "case when current_setting('synchronous_commit') = 'off' then set_config('synchronous_commit', 'on', true) end";
