// The production build (npm run build:prod, scripts/build-prod.mjs) and what deploy/Dockerfile
// makes of it: compiled JavaScript run by plain `node`, beside `npm ci --omit=dev -w @mcx/cli`.
// Without a Docker engine, the image's two promises are checked here: every package the bundle
// imports is a runtime dependency (never a dev one), and the compiled files migrate a database
// and serve a node with nothing but node_modules beside them.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient } from '@mcx/client';
import { createFreshDatabase } from '@mcx/db';
import { nodeLoginUrl, testAdminUrl } from '@mcx/db/testing';
import { blindWith } from '@mcx/linkage';

import { episodeInput, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { readHeaders } from '../testkit/node.js';
import { compiledBuild, consoleBuilt, mcxCompiled, ROOT, startCompiledNode, type CompiledBuild, type CompiledNode } from './compiled.js';

const runFile = promisify(execFile);

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as T;
const workspaces = new Map<string, PackageJson>(
  ['packages', 'services']
    .flatMap((dir) => readdirSync(path.join(ROOT, dir)).map((p) => `${dir}/${p}/package.json`))
    .map((file) => readJson<PackageJson>(file))
    .map((p) => [p.name, p]),
);

/** What `npm ci --omit=dev -w @mcx/cli` installs directly: @mcx/cli's dependencies, through the workspace packages. */
function runtimeDependencies(): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of Object.keys(workspaces.get(name)!.dependencies ?? {}))
      if (workspaces.has(dep)) visit(dep);
      else found.add(dep);
  };
  visit('@mcx/cli');
  return found;
}

/** Tools for building and testing, which the image must not carry. */
const DEV_ONLY = [
  'tsx',
  'esbuild',
  'drizzle-kit',
  'typescript',
  'vitest',
  'vite',
  'testcontainers',
  'autocannon',
  'playwright-core',
  'prettier',
];

let build: CompiledBuild;
beforeAll(async () => {
  build = await compiledBuild();
}, 60_000);

describe('the production build', () => {
  it('imports only runtime dependencies: each bare import is in a dependencies list @mcx/cli reaches, none is dev-only, each is installed beside it', () => {
    const runtime = runtimeDependencies();
    const lock = readJson<{ packages: Record<string, { dev?: boolean; version?: string }> }>('package-lock.json');
    expect(build.manifest.externals.length).toBeGreaterThan(10);
    for (const name of build.manifest.externals) {
      expect(name.startsWith('@mcx/'), `${name} is compiled in, never imported`).toBe(false);
      expect(runtime.has(name), `${name} is imported by the build but is no runtime dependency of @mcx/cli's packages`).toBe(true);
      // The lockfile says what `npm ci --omit=dev` leaves out.
      expect(lock.packages[`node_modules/${name}`]?.dev, `${name} is installed as a dev dependency`).not.toBe(true);
      expect(() => readFileSync(path.join(build.dir, 'node_modules', name, 'package.json')), name).not.toThrow();
    }
    for (const tool of DEV_ONLY) expect(runtime.has(tool), `${tool} is a runtime dependency`).toBe(false);
    const code = readdirSync(build.dir)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => readFileSync(path.join(build.dir, f), 'utf8'))
      .join('\n');
    expect(code).not.toMatch(/from\s*["'](?:@mcx\/|tsx)/);
    expect(code).not.toMatch(/\.ts["']/);
    // Nothing made for tests is compiled in (a signer of malformed JWS, @mcx/signing/testing; fixtures; test kits): the source maps list every file.
    const sources = readdirSync(build.dir)
      .filter((f) => f.endsWith('.mjs.map'))
      .flatMap((f) => (JSON.parse(readFileSync(path.join(build.dir, f), 'utf8')) as { sources: string[] }).sources);
    expect(sources.filter((s) => s.includes('packages/signing/src/')).length).toBeGreaterThan(5);
    expect(sources.filter((s) => /\/(testing|testkit[^/]*)\.ts$|\/fixtures\/|\.test\.ts$|(^|\/)tests\//.test(s))).toEqual([]);
  });

  it('carries the files read at run time: the migrations and their journal, every schema file, the console when built', () => {
    expect(build.manifest.assets).toEqual(
      expect.arrayContaining(['packages/db/migrations', 'schema', 'services/linkage/migrations', 'services/console/dist']),
    );
    const journal = 'packages/db/migrations/meta/_journal.json';
    expect(readFileSync(path.join(build.dir, journal), 'utf8')).toBe(readFileSync(path.join(ROOT, journal), 'utf8'));
    const graphql = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.graphql'));
    expect(graphql(path.join(build.dir, 'schema')).sort()).toEqual(graphql(path.join(ROOT, 'schema')).sort());
    if (consoleBuilt()) expect(readdirSync(path.join(build.dir, 'services/console/dist'))).toContain('index.html');
  });

  it("compiles the OPRF worker thread's module beside the bundle, and the bundle's own OPRF runs on it, as the sources compute", async () => {
    expect(build.manifest.workers).toEqual(['oprf-worker.mjs']);
    // The bundle's chunk that holds the OPRF's pool, loaded in a plain node beside the build's node_modules.
    const chunks = readdirSync(build.dir).filter((f) => f.endsWith('.mjs'));
    const offload = chunks.filter((f) =>
      readFileSync(path.join(build.dir, f), 'utf8').includes('new URL("./oprf-worker.mjs", import.meta.url)'),
    );
    expect(offload).toHaveLength(1);
    const input = Buffer.from('synthetic-key-input');
    // A scalar in 1..order-1 (little-endian 7).
    const blind = Buffer.alloc(32);
    blind[0] = 7;
    const script = (dir: string) => `
      const { oprfOffThread, startOprfWorker } = await import(${JSON.stringify(path.join(dir, offload[0]!))});
      const hex = (a) => a.map((x) => Buffer.from(x).toString('hex'));
      try {
        await startOprfWorker();
        const { blinded } = await oprfOffThread.blind([Buffer.from('${input.toString('hex')}', 'hex')], [Buffer.from('${blind.toString('hex')}', 'hex')]);
        const refused = await oprfOffThread.evaluate({ version: 'k1', key: '00'.repeat(32) }, blinded).catch((e) => e.code);
        process.stdout.write(JSON.stringify({ blinded: hex(blinded), refused }));
      } catch (e) {
        process.stdout.write(JSON.stringify({ failed: e.code, message: e.message }));
      }`;
    const ask = async (dir: string) =>
      JSON.parse(
        (await runFile(process.execPath, ['--input-type=module', '-e', script(dir)], { cwd: dir, timeout: 30_000 })).stdout,
      ) as Record<string, unknown>;
    expect(await ask(build.dir)).toEqual({
      blinded: blindWith([input], [blind]).blinded.map((b) => Buffer.from(b).toString('hex')),
      refused: 'LINKAGE_KEY_INVALID',
    });
    // Without the worker's module beside it, the start check refuses with a code, and the process ends by itself.
    const broken = mkdtempSync(path.join(tmpdir(), 'mcx-dist-noworker-'));
    cpSync(build.dir, broken, { recursive: true, verbatimSymlinks: true });
    rmSync(path.join(broken, 'oprf-worker.mjs'));
    expect(await ask(broken)).toEqual({ failed: 'LINKAGE_WORKER_UNAVAILABLE', message: expect.stringContaining('ERR_MODULE_NOT_FOUND') });
    // Put back, it is taken again: refused at once meanwhile, started afresh 5 s after the failure.
    const recovery = `
      const { copyFileSync } = await import('node:fs');
      const { oprfWorkerFailure, startOprfWorker } = await import(${JSON.stringify(path.join(broken, offload[0]!))});
      const outcome = (p) => p.then(() => 'ok', (e) => e.code);
      const first = await outcome(startOprfWorker());
      await new Promise((r) => setTimeout(r, 1000));
      copyFileSync(${JSON.stringify(path.join(build.dir, 'oprf-worker.mjs'))}, ${JSON.stringify(path.join(broken, 'oprf-worker.mjs'))});
      const meanwhile = await outcome(startOprfWorker());
      const health = oprfWorkerFailure();
      await new Promise((r) => setTimeout(r, 5200));
      process.stdout.write(JSON.stringify([first, meanwhile, health, await outcome(startOprfWorker()), oprfWorkerFailure()]));`;
    const { stdout } = await runFile(process.execPath, ['--input-type=module', '-e', recovery], { cwd: broken, timeout: 30_000 });
    // The health check (the linkage service's /healthz) sees the failure while it lasts.
    expect(JSON.parse(stdout)).toEqual(['LINKAGE_WORKER_UNAVAILABLE', 'LINKAGE_WORKER_UNAVAILABLE', 'ERR_MODULE_NOT_FOUND', 'ok', null]);
  });
});

describe('the compiled build on a real database, run by plain node', () => {
  let owner: string;
  let node: CompiledNode;
  let env: Record<string, string>;
  beforeAll(async () => {
    owner = await createFreshDatabase(testAdminUrl(), 'mcx_compiled');
    // `mcx db migrate` needs the database and nothing else, in production too.
    const migrated = await mcxCompiled(build, ['db', 'migrate'], { MCX_ENV: 'production', MCX_MIGRATION_DATABASE_URL: owner });
    expect(migrated).toMatch(/^applied \d+ migrations to mcx_compiled/);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-compiled-'));
    env = { MCX_ENV: 'test', MCX_FORCE_CODE: 'WMP', PORT: '0', MCX_DATA_DIR: dataDir, DATABASE_URL: await nodeLoginUrl(owner) };
    node = await startCompiledNode(build, env);
  }, 90_000);
  afterAll(async () => {
    if (node) expect(await node.stop()).toBe(0);
  });

  it('answers /healthz and /readyz, and a publisher and an investigator with tokens from the compiled `mcx token mint`', async () => {
    expect(await (await fetch(`${node.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, database: 'reachable', reason: null });
    const mint = async (...args: string[]) => (await mcxCompiled(build, ['token', 'mint', ...args], env)).trim();
    const [publisherToken, investigatorToken] = await Promise.all([
      mint('--role', 'publisher', '--kind', 'client', '--subject', 'wmp-rms'),
      mint('--role', 'investigator'),
    ]);
    const publisher = createClient({ url: node.url, token: publisherToken });
    const episode = episodeInput();
    expect(await publishEpisode(publisher, episode)).toMatchObject({ episode: { id: episode.id }, errors: [] });
    const investigator = createClient({ url: node.url, token: investigatorToken, headers: readHeaders('WMP') });
    const found = await localEpisodes(investigator, { subjectRef: episode.subjectRef! });
    expect(found.nodes.map((n) => n.id)).toEqual([episode.id]);
    // A token of no issuer the node trusts.
    const res = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.token', ...readHeaders('WMP') },
      body: JSON.stringify({ query: '{ localEpisodes(first: 1) { nodes { id } } }' }),
    });
    expect(res.status).toBe(401);
    if (consoleBuilt()) expect((await fetch(`${node.url}/console/`)).headers.get('content-type')).toMatch(/^text\/html/);
  });

  it("/readyz is 503 with a reason while a migration is pending, and ready with a warning on a newer release's schema (a rolling update keeps the old replicas serving)", async () => {
    const sql = postgres(owner, { max: 1, onnotice: () => {} });
    const readyz = async () => {
      const res = await fetch(`${node.url}/readyz`);
      return {
        status: res.status,
        body: (await res.json()) as { ready: boolean; reason: string | null; warning: string | null; migrations: unknown },
      };
    };
    try {
      const [count] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const applied = count!.n;
      // A newer release's migration: one more row in the journal than this build's files.
      await sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('newer-release', ${Date.now()})`;
      const ahead = await readyz();
      expect(ahead.status).toBe(200);
      expect(ahead.body).toMatchObject({ ready: true, reason: null, migrations: { applied: applied + 1, expected: applied } });
      expect(ahead.body.warning).toMatch(/schema is newer than this release \(\d+ migrations applied, \d+ known\).*keeps serving/);
      await sql`delete from drizzle.__drizzle_migrations where hash = 'newer-release'`;
      expect(await readyz()).toMatchObject({ status: 200, body: { ready: true, warning: null } });
      // And one this release has that the database lacks.
      const [last] = await sql<{ id: number; hash: string; created_at: string }[]>`
        select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`;
      await sql`delete from drizzle.__drizzle_migrations where id = ${last!.id}`;
      const behind = await readyz();
      expect(behind.status).toBe(503);
      expect(behind.body.reason).toMatch(/^1 migration is pending: run `mcx db migrate` as the schema owner/);
      await sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id}, ${last!.hash}, ${last!.created_at})`;
      expect(await readyz()).toMatchObject({ status: 200, body: { ready: true, reason: null } });
    } finally {
      await sql.end();
    }
  });
});
