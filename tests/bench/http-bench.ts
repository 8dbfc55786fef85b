// The node's HTTP shell, old against new, in one run: requests per second and p99 latency of a
// minimal authenticated query (`{ nodeForce }` with an investigator's token: token check, context,
// Apollo, no database), measured with autocannon on the same machine.
//   npm run bench:http
// The old shell is the hand-written node:http layer the Fastify edge (services/node/src/http/)
// replaced: the commit before services/node/src/http/server.ts was added (or BENCH_OLD_REF),
// checked out into a temporary git worktree, its own @mcx/* packages linked into its node_modules
// and everything else shared with this checkout. Each node runs in a process of its own; rounds
// alternate old and new so that a change in the machine's load falls on both.
//   BENCH_SECONDS=10 (per round)  BENCH_ROUNDS=3  BENCH_CONNECTIONS=10  BENCH_OLD_REF=<commit>
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createFreshDatabase, runMigrations } from '@mcx/db';
import { startBenchServer } from './federation-bench-support.js';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const out = (s = '') => process.stdout.write(`${s}\n`);
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();

function oldRef(): string {
  if (process.env.BENCH_OLD_REF) return git('rev-parse', process.env.BENCH_OLD_REF);
  const added = git('log', '--diff-filter=A', '--format=%H', '--', 'services/node/src/http/server.ts').split('\n').filter(Boolean).at(-1);
  if (!added) throw new Error('services/node/src/http/server.ts is not in the history: set BENCH_OLD_REF');
  return git('rev-parse', `${added}^`);
}

/** A worktree of `ref` whose node_modules are this checkout's, except @mcx/*, which point into the worktree. */
function checkoutOld(ref: string): { dir: string; remove(): void } {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mcx-http-bench-')), 'tree');
  git('worktree', 'add', '--detach', dir, ref);
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, '@mcx'), { recursive: true });
  for (const entry of readdirSync(path.join(REPO, 'node_modules'))) {
    if (entry === '@mcx' || entry === '.bin') continue;
    symlinkSync(path.join(REPO, 'node_modules', entry), path.join(modules, entry));
  }
  // The workspace links are relative (../../packages/x), so the same link inside the worktree points at its own copy.
  for (const pkg of readdirSync(path.join(REPO, 'node_modules', '@mcx'))) {
    symlinkSync(readlinkSync(path.join(REPO, 'node_modules', '@mcx', pkg)), path.join(modules, '@mcx', pkg));
  }
  return {
    dir,
    remove: () => {
      git('worktree', 'remove', '--force', dir);
      rmSync(path.dirname(dir), { recursive: true, force: true });
    },
  };
}

interface Shell {
  name: string;
  url: string;
  token: string;
  child: ChildProcess;
}

async function startShell(name: string, tree: string, databaseUrl: string, force: string): Promise<Shell> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'tests/bench/http-bench-node.ts'), tree, databaseUrl, force], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the ${name} node exited (${code}) before it listened`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { name, url, token, child };
}

async function stopShell(shell: Shell): Promise<void> {
  const exited = new Promise((resolve) => shell.child.once('exit', resolve));
  shell.child.stdin!.end();
  await exited;
}

function load(shell: Shell, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${shell.url}/graphql`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${shell.token}` },
    body: JSON.stringify({ query: '{ nodeForce }' }),
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ref = oldRef();
out(`HTTP shell: old ${ref.slice(0, 12)} (node:http, hand-written) against new ${git('rev-parse', '--short=12', 'HEAD')} (Fastify) plus the working tree`);
out(`{ nodeForce } as an investigator; autocannon ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, alternating`);
const server = await startBenchServer();
const old = checkoutOld(ref);
const shells: Shell[] = [];
try {
  for (const [name, tree, force] of [['old', old.dir, 'WMP'], ['new', REPO, 'GMP']] as const) {
    const url = await createFreshDatabase(server.adminUrl, `mcx_httpbench_${name}`);
    await runMigrations(url);
    shells.push(await startShell(name, tree, url, force));
  }
  const results: Record<string, { rps: number[]; p99: number[]; errors: number }> = { old: { rps: [], p99: [], errors: 0 }, new: { rps: [], p99: [], errors: 0 } };
  for (const shell of shells) {
    const check = await fetch(`${shell.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${shell.token}` }, body: JSON.stringify({ query: '{ nodeForce }' }) });
    const answer = await check.text();
    if (check.status !== 200 || !answer.includes('"nodeForce"')) throw new Error(`the ${shell.name} shell answered ${check.status}: ${answer}`);
    await load(shell, 2); // warm-up: JIT, connection pool
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const shell of round % 2 === 0 ? shells : [...shells].reverse()) {
      const r = await load(shell, SECONDS);
      results[shell.name]!.rps.push(r.requests.average);
      results[shell.name]!.p99.push(r.latency.p99);
      results[shell.name]!.errors += r.errors + r.non2xx;
      out(`  round ${round + 1} ${shell.name}: ${r.requests.average.toFixed(0)} req/s, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
    }
  }
  const o = { rps: median(results.old!.rps), p99: median(results.old!.p99) };
  const n = { rps: median(results.new!.rps), p99: median(results.new!.p99) };
  out();
  out(`old shell: ${o.rps.toFixed(0)} req/s, p99 ${o.p99} ms (median of ${ROUNDS} rounds)`);
  out(`new shell: ${n.rps.toFixed(0)} req/s, p99 ${n.p99} ms (median of ${ROUNDS} rounds)`);
  out(`new/old: ${(n.rps / o.rps).toFixed(2)}x requests per second, p99 ${(n.p99 / o.p99).toFixed(2)}x`);
  if (results.old!.errors + results.new!.errors > 0) out(`failed requests: old ${results.old!.errors}, new ${results.new!.errors}`);
} finally {
  for (const shell of shells) await stopShell(shell);
  old.remove();
  await server.stop();
}
