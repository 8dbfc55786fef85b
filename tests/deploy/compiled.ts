// The production build (scripts/build-prod.mjs) as deploy/Dockerfile lays it out: the compiled
// files in a folder beside a node_modules (here a link to the repository's), run by plain `node`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CompiledBuild {
  /** The build folder: mcx.mjs, its chunks, and the files read at run time (schema/, migrations). */
  dir: string;
  bundle: string;
  manifest: { entry: string; workers: string[]; externals: string[]; assets: string[] };
}

let building: Promise<CompiledBuild> | null = null;

/** Builds once per test file into a temporary folder (the console's build is copied when it exists). */
export function compiledBuild(): Promise<CompiledBuild> {
  return (building ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-dist-'));
    await run(process.execPath, [path.join(ROOT, 'scripts/build-prod.mjs'), '--outdir', dir, '--allow-missing-console'], {
      cwd: ROOT,
      timeout: 60_000,
    });
    // The image's layout: /app/dist beside /app/node_modules. MCX_TEST_RUNTIME_NODE_MODULES names a
    // folder made as deploy/Dockerfile makes it (npm ci --omit=dev --workspace=@mcx/cli), to run these
    // tests on exactly that; by default the repository's (a superset).
    const modules = process.env.MCX_TEST_RUNTIME_NODE_MODULES ?? path.join(ROOT, 'node_modules');
    symlinkSync(modules, path.join(dir, 'node_modules'), 'dir');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'build-manifest.json'), 'utf8')) as CompiledBuild['manifest'];
    return { dir, bundle: path.join(dir, manifest.entry), manifest };
  })());
}

/** A clean environment for a child: nothing of the test process's own (DATABASE_URL, NODE_OPTIONS...). */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    TMPDIR: tmpdir(),
    APOLLO_TELEMETRY_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    ...env,
  };
}

/** Runs `node <bundle> ...args` (the image's `mcx`) to completion; rejects with its output on a non-zero exit. */
export async function mcxCompiled(build: CompiledBuild, args: string[], env: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [build.bundle, ...args], { env: childEnv(env), cwd: build.dir, timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    throw Object.assign(new Error(`mcx ${args.join(' ')} exited ${e.code}: ${e.stderr ?? ''}${e.stdout ?? ''}`), { exitCode: e.code });
  }
}

export interface CompiledNode {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, and the exit code once the process has gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node <bundle> node start` and resolves once it prints the URL it serves. */
export function startCompiledNode(build: CompiledBuild, env: Record<string, string>): Promise<CompiledNode> {
  const child = spawn(process.execPath, [build.bundle, 'node', 'start'], { env: childEnv(env), cwd: build.dir, stdio: 'pipe' });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the compiled node did not start within 30 s')), 30_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${out}`));
    };
    let started = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /serving (http:\/\/\S+)\/graphql/.exec(out);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      resolve({
        url: m[1]!,
        child,
        output: () => out,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      if (!started) fail(new Error(`the compiled node exited ${code} before it served`));
    });
  });
}

/** The console's build, when it has been built in this clone (the production build then carries it). */
export const consoleBuilt = (): boolean => existsSync(path.join(ROOT, 'services/console/dist/index.html'));
