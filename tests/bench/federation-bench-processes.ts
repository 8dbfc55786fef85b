// The 10-node federation of tests/bench/federation-bench.ts again, with each node in a process of
// its own (tests/bench/federation-bench-child.ts), as nodes are deployed: one event loop per node,
// each answering its peers while the others do. The linkage service, the load generator and the
// investigator's client stay in this process. CPU is the sum over every node process and this one.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeNodeKeys } from '@mcx/node';

import type { ChildAnswer, ChildQuestion } from './federation-bench-child.js';
import { closedLoop, idleCpuRate, openLoop, settle, warmUp, type RunResult } from './federation-bench-load.js';
import {
  askerAt,
  CALLER,
  CLOSED_LOOP_SECONDS,
  CONCURRENCY,
  EPISODES_PER_NODE,
  investigatorClient,
  logCounts,
  OPEN_LOOP_SECONDS,
  prepareFederation,
  type Answer,
} from './federation-bench-nodes.js';
import { out, type ClosedResult } from './federation-bench-report.js';
import type { BenchServer } from './federation-bench-support.js';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHILD_ENTRY = path.join(REPO, 'tests/bench/federation-bench-child.ts');
const STARTUP_MS = 180_000;

export interface ProcessFederation {
  forces: string[];
  /** The investigator at the caller asking federatedEpisodes(identity). */
  ask: () => Promise<Answer>;
  /** CPU ms used so far by every node process and this one. */
  cpuMs(): Promise<number>;
  /** Members whose breaker at the caller is not closed. */
  notClosed(): Promise<string[]>;
  close(): Promise<void>;
}

class Child {
  private next = 0;
  private readonly waiting = new Map<number, { resolve(a: ChildAnswer): void; reject(err: Error): void }>();
  constructor(
    readonly force: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (a: ChildAnswer) => {
      if ('id' in a) {
        this.waiting.get(a.id)?.resolve(a);
        this.waiting.delete(a.id);
      }
    });
    // A process that dies leaves no question waiting for ever (the bench would hang on it).
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the ${force} node's process exited (${code})`));
      this.waiting.clear();
    });
  }
  ask<T extends ChildAnswer>(ask: ChildQuestion['ask']): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) return reject(new Error(`the ${this.force} node's process has gone`));
      this.waiting.set(id, { resolve: resolve as (a: ChildAnswer) => void, reject });
      this.proc.send({ id, ask } satisfies ChildQuestion);
    });
  }
}

function startChild(force: string, args: object): Promise<{ child: Child; url: string; investigatorToken: string }> {
  const proc = fork(CHILD_ENTRY, [JSON.stringify(args)], {
    cwd: REPO,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`the ${force} node did not start within ${STARTUP_MS / 1000} s`));
    }, STARTUP_MS);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${force} node's process exited (${code}) before it was ready`));
    });
    proc.on('message', (a: ChildAnswer) => {
      if ('failed' in a) {
        clearTimeout(timer);
        reject(new Error(`the ${force} node failed to start: ${a.failed}`));
      } else if ('ready' in a) {
        clearTimeout(timer);
        resolve({ child: new Child(force, proc), ...a.ready });
      }
    });
  });
}

/** The nodes of `forces` in a process each, the child published at every one. */
export async function startProcessFederation(server: BenchServer, forces: string[], dataDir: string): Promise<ProcessFederation> {
  const { fed, env } = await prepareFederation(server, forces);
  const children: Child[] = [];
  const stopAll = () => {
    for (const c of children) c.proc.kill();
  };
  let caller: { url: string; investigatorToken: string } | null = null;
  try {
    await Promise.all(
      forces.map(async (force) => {
        // The keys reach the child as its key files, as a deployed node reads them.
        const keysDir = path.join(dataDir, `${force}-process`, 'keys');
        writeNodeKeys(keysDir, fed.keys[force]!);
        const started = await startChild(force, { force, env: env(force, path.join(dataDir, 'processes')), keysDir, copies: 1 });
        children.push(started.child);
        if (force === CALLER) caller = started;
      }),
    );
  } catch (err) {
    stopAll();
    await fed.close();
    throw err;
  }
  const { url, investigatorToken } = caller!;
  const callerChild = children.find((c) => c.force === CALLER)!;
  return {
    forces,
    ask: askerAt(investigatorClient(url, investigatorToken, CALLER)),
    cpuMs: async () => {
      const own = process.cpuUsage();
      const theirs = await Promise.all(children.map((c) => c.ask<{ id: number; cpuMs: number }>('cpu')));
      return (own.user + own.system) / 1000 + theirs.reduce((sum, a) => sum + a.cpuMs, 0);
    },
    notClosed: async () =>
      (await callerChild.ask<{ id: number; health: { code: string; breaker: string }[] }>('health')).health
        .filter((m) => m.breaker !== 'closed')
        .map((m) => m.code),
    close: async () => {
      // Their warnings and errors join this process's count, for the run's last line.
      for (const c of children) {
        const { logs } = await c.ask<{ id: number; logs: typeof logCounts }>('logs').catch(() => ({ logs: null }));
        if (!logs) continue;
        logCounts.warn += logs.warn;
        logCounts.error += logs.error;
        logCounts.first.push(...logs.first.slice(0, Math.max(0, 3 - logCounts.first.length)));
        logCounts.firstErrors.push(...logs.firstErrors.slice(0, Math.max(0, 3 - logCounts.firstErrors.length)));
      }
      await Promise.all(children.map((c) => c.ask('close').catch(() => undefined)));
      stopAll();
      await fed.close();
    },
  };
}

export interface DeployedResult {
  idle: number;
  runs: [string, RunResult][];
  notClosed: Map<string, string[]>;
  closed: ClosedResult[];
}

/** The same phases as the one-process federation's: warm-up, idle background, open loops at `rates`, closed loops. */
export async function measureDeployed(server: BenchServer, forces: string[], dataDir: string, rates: number[]): Promise<DeployedResult> {
  const f = await startProcessFederation(server, forces, dataDir);
  try {
    await warmUp(f.ask, forces.length * EPISODES_PER_NODE);
    await closedLoop(f.ask, 1, 4); // warm-up, discarded
    const idle = await idleCpuRate(10_000, f.cpuMs);
    const runs: [string, RunResult][] = [];
    const notClosed = new Map<string, string[]>();
    for (const rate of rates) {
      out(`10 nodes, a process each: open loop ${rate}/s for ${OPEN_LOOP_SECONDS} s ...`);
      await settle(f.ask);
      runs.push([`${rate}/s`, await openLoop(server, f.ask, forces.length * EPISODES_PER_NODE, rate, OPEN_LOOP_SECONDS, f.cpuMs)]);
      notClosed.set(`${rate}/s`, await f.notClosed());
    }
    out(`10 nodes, a process each: closed loop at ${CONCURRENCY.join(', ')} in flight, ${CLOSED_LOOP_SECONDS} s each ...`);
    const closed: ClosedResult[] = [];
    for (const c of CONCURRENCY) {
      await settle(f.ask);
      closed.push(await closedLoop(f.ask, c, CLOSED_LOOP_SECONDS, f.cpuMs));
    }
    return { idle, runs, notClosed, closed };
  } finally {
    await f.close();
  }
}
