// The node's HTTP shell, old against new, in one run: requests per second, p99 latency and CPU time
// a request of a minimal authenticated query (`{ nodeForce }` with an investigator's token: token
// check, context, Apollo, no database), and of GET /healthz (the shell alone), measured with
// autocannon on the same machine.
//   npm run bench:http
// The old shell is the hand-written node:http layer the Fastify edge (services/node/src/http/)
// replaced: the commit before services/node/src/http/server.ts was added (or BENCH_OLD_REF),
// checked out into a temporary git worktree, its own @mcx/* packages linked into its node_modules
// and everything else shared with this checkout. Each node runs in a process of its own, and both
// are loaded at the same time, each by its own autocannon, so that a change in the machine's load
// falls on both alike: the ratio of each round compares them under the same conditions.
//   BENCH_SECONDS=10 (per round)  BENCH_ROUNDS=3  BENCH_CONNECTIONS=10  BENCH_OLD_REF=<commit>
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
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
const WARMUP_SECONDS = 5;
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
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'tests/bench/http-bench-node.ts'), tree, databaseUrl, force], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
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

interface Scenario {
  name: string;
  request(shell: Shell): Pick<autocannon.Options, 'url' | 'method' | 'headers' | 'body'>;
  /** What a correct answer contains. */
  expect: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: '{ nodeForce } as an investigator (token check, context, Apollo; no database)',
    request: (shell) => ({
      url: `${shell.url}/graphql`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shell.token}` },
      body: JSON.stringify({ query: '{ nodeForce }' }),
    }),
    expect: '"nodeForce"',
  },
  {
    name: 'GET /healthz (the shell alone)',
    request: (shell) => ({ url: `${shell.url}/healthz`, method: 'GET' }),
    expect: '"ok"',
  },
];

function load(shell: Shell, scenario: Scenario, seconds: number): Promise<autocannon.Result> {
  return autocannon({ ...scenario.request(shell), connections: CONNECTIONS, duration: seconds });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user and system, ms) a process has used so far, from /proc; NaN where there is none. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

const ref = oldRef();
out(
  `HTTP shell: old ${ref.slice(0, 12)} (node:http, hand-written) against new ${git('rev-parse', '--short=12', 'HEAD')} (Fastify) plus the working tree`,
);
out(
  `autocannon, ${CONNECTIONS} connections to each shell, both at once; ${ROUNDS} rounds of ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up`,
);
const server = await startBenchServer();
const old = checkoutOld(ref);
const shells: Shell[] = [];
try {
  for (const [name, tree, force] of [
    ['old', old.dir, 'WMP'],
    ['new', REPO, 'GMP'],
  ] as const) {
    const url = await createFreshDatabase(server.adminUrl, `mcx_httpbench_${name}`);
    await runMigrations(url);
    shells.push(await startShell(name, tree, url, force));
  }
  for (const scenario of SCENARIOS) {
    for (const shell of shells) {
      const { url, method, headers, body } = scenario.request(shell);
      const check = await fetch(url!, {
        method: method!,
        headers: headers as Record<string, string>,
        ...(body ? { body: body as string } : {}),
      });
      const answer = await check.text();
      if (check.status !== 200 || !answer.includes(scenario.expect))
        throw new Error(`the ${shell.name} shell answered ${check.status}: ${answer}`);
    }
    out();
    out(scenario.name);
    // Warm-up, both at once as in the rounds: JIT, connection pools.
    await Promise.all(shells.map((shell) => load(shell, scenario, WARMUP_SECONDS)));
    // Side by side: both shells under load at once, so that whatever else the machine does falls
    // on both alike; each round's ratio compares the two under the same conditions. The CPU time
    // each node used per answered request is what the shell costs, whatever the machine's load.
    const rounds: { old: autocannon.Result; new: autocannon.Result; oldCpu: number; newCpu: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = shells.map((shell) => cpuMs(shell.child.pid));
      const [o, n] = await Promise.all([load(shells[0]!, scenario, SECONDS), load(shells[1]!, scenario, SECONDS)]);
      const [oldCpu, newCpu] = shells.map((shell, i) => ((cpuMs(shell.child.pid) - before[i]!) * 1000) / (i === 0 ? o : n).requests.total);
      rounds.push({ old: o, new: n, oldCpu: oldCpu!, newCpu: newCpu! });
      out(
        `  round ${round + 1}: old ${o.requests.average.toFixed(0)} req/s (p99 ${o.latency.p99} ms, ${oldCpu!.toFixed(0)} µs CPU a request), new ${n.requests.average.toFixed(0)} req/s (p99 ${n.latency.p99} ms, ${newCpu!.toFixed(0)} µs CPU a request), ratio ${(n.requests.average / o.requests.average).toFixed(2)}`,
      );
    }
    const failed = rounds.reduce((sum, r) => sum + r.old.errors + r.old.non2xx + r.new.errors + r.new.non2xx, 0);
    const o = { rps: median(rounds.map((r) => r.old.requests.average)), p99: median(rounds.map((r) => r.old.latency.p99)) };
    const n = { rps: median(rounds.map((r) => r.new.requests.average)), p99: median(rounds.map((r) => r.new.latency.p99)) };
    out(
      `  old shell: ${o.rps.toFixed(0)} req/s, p99 ${o.p99} ms, ${median(rounds.map((r) => r.oldCpu)).toFixed(0)} µs CPU a request (medians of ${ROUNDS} rounds)`,
    );
    out(
      `  new shell: ${n.rps.toFixed(0)} req/s, p99 ${n.p99} ms, ${median(rounds.map((r) => r.newCpu)).toFixed(0)} µs CPU a request (medians of ${ROUNDS} rounds)`,
    );
    out(
      `  new/old: ${median(rounds.map((r) => r.new.requests.average / r.old.requests.average)).toFixed(2)}x requests per second, p99 ${median(rounds.map((r) => r.new.latency.p99 / r.old.latency.p99)).toFixed(2)}x, CPU a request ${median(rounds.map((r) => r.newCpu / r.oldCpu)).toFixed(2)}x (medians of the rounds' ratios)`,
    );
    if (failed > 0) out(`  failed or non-2xx requests: ${failed}`);
  }
} finally {
  for (const shell of shells) await stopShell(shell);
  old.remove();
  await server.stop();
}
