/** Stable codes of the errors @mcx/db throws while preparing the node's database. */
export const DatabaseErrorCode = {
  /** The node's login can do more than the application's grants (superuser, owner, BYPASSRLS...). */
  DATABASE_LOGIN_PRIVILEGED: 'DATABASE_LOGIN_PRIVILEGED',
  /** A login role or database name is not a plain identifier. */
  DATABASE_LOGIN_INVALID: 'DATABASE_LOGIN_INVALID',
  /** Migrations are pending and the login may not apply them. */
  MIGRATIONS_NOT_PERMITTED: 'MIGRATIONS_NOT_PERMITTED',
  /** synchronous_commit is off for the login or database: a commit does not wait for its WAL flush. */
  DATABASE_NOT_DURABLE: 'DATABASE_NOT_DURABLE',
} as const;
/** One database code. */
export type DatabaseErrorCode = (typeof DatabaseErrorCode)[keyof typeof DatabaseErrorCode];
