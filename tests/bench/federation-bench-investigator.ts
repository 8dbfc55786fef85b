// Who asks in tests/bench/federation-bench.ts: the investigator's open and closed loops, warm-up
// and settle, run either here (`localInvestigator`, for the central copy's services called
// directly) or in a process of the investigator's own (`remoteInvestigator`, the headline runs).
//
// Apart, the investigator's client (fetch, the request, parsing each answer) neither takes turns
// on the nodes' event loop nor counts in their CPU: cpuMsPerQuery is this process's (every node
// and the linkage service) and clientCpuMsPerQuery the investigator's, each over the same run.
import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import type { InvestigatorAnswer, InvestigatorQuestion, InvestigatorRun } from './federation-bench-investigator-child.js';
import { closedLoop, openLoop, settle, warmUp, type RunResult } from './federation-bench-load.js';
import type { Answer, BenchNode } from './federation-bench-nodes.js';
import type { ClosedResult } from './federation-bench-report.js';
import type { BenchServer } from './federation-bench-support.js';

const CHILD_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'federation-bench-investigator-child.ts');
const STARTUP_MS = 60_000;

export interface Investigator {
  openLoop(server: BenchServer, expected: number, rate: number, seconds: number): Promise<RunResult>;
  closedLoop(concurrency: number, seconds: number): Promise<ClosedResult>;
  warmUp(expected: number): Promise<void>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The loops in this process, asking through `ask`: its CPU is in cpuMsPerQuery. */
export function localInvestigator(ask: () => Promise<Answer>): Investigator {
  return {
    openLoop: (server, expected, rate, seconds) => openLoop(server, ask, expected, rate, seconds),
    closedLoop: (concurrency, seconds) => closedLoop(ask, concurrency, seconds),
    warmUp: (expected) => warmUp(ask, expected),
    settle: () => settle(ask),
    close: async () => undefined,
  };
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** The investigator of `node` (its URL and token) in a process of its own. */
export async function remoteInvestigator(node: BenchNode): Promise<Investigator> {
  const proc = fork(CHILD_ENTRY, [JSON.stringify({ url: node.node.url, token: node.investigatorToken, force: node.force })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(a: Record<string, unknown> | null): void; reject(err: Error): void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`the investigator's process did not start within ${STARTUP_MS / 1000} s`));
    }, STARTUP_MS);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the investigator's process exited (${code}) before it was ready`));
    });
    proc.on('message', (a: InvestigatorAnswer) => {
      if ('ready' in a) {
        clearTimeout(timer);
        resolve();
      } else {
        const w = waiting.get(a.id);
        waiting.delete(a.id);
        if ('failed' in a) w?.reject(new Error(`the investigator's run failed: ${a.failed}`));
        else w?.resolve(a.result);
      }
    });
  });
  // A process that dies leaves no run waiting for ever (the bench would hang on it).
  proc.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`the investigator's process exited (${code})`));
    waiting.clear();
  });
  const run = (r: InvestigatorRun) =>
    new Promise<Record<string, unknown> | null>((resolve, reject) => {
      if (!proc.connected) return reject(new Error("the investigator's process has gone"));
      const id = ++next;
      waiting.set(id, { resolve, reject });
      proc.send({ id, ...r } satisfies InvestigatorQuestion);
    });
  const problems = (r: Record<string, unknown>) => new Map(r.problems as [string, number][]);

  return {
    async openLoop(server, expected, rate, seconds) {
      const cpu0 = cpuMs();
      const pg0 = server.cpuMs();
      const r = (await run({ run: 'open', expected, rate, seconds }))!;
      const cpu = cpuMs() - cpu0;
      const pg1 = server.cpuMs();
      const theirs = r as unknown as RunResult;
      return {
        ...theirs,
        problems: problems(r),
        cpuMsPerQuery: cpu / theirs.queries,
        pgMsPerQuery: pg0 !== null && pg1 !== null ? (pg1 - pg0) / theirs.queries : null,
        clientCpuMsPerQuery: theirs.cpuMsPerQuery,
      };
    },
    async closedLoop(concurrency, seconds) {
      const cpu0 = cpuMs();
      const loop0 = performance.eventLoopUtilization();
      const r = (await run({ run: 'closed', concurrency, seconds }))!;
      const theirs = r as unknown as ClosedResult;
      return {
        ...theirs,
        problems: problems(r),
        cpuMsPerQuery: (cpuMs() - cpu0) / Math.max(1, theirs.done),
        clientCpuMsPerQuery: theirs.cpuMsPerQuery,
        // This process holds every node and the linkage service, and nothing of the investigator.
        nodesLoopBusy: performance.eventLoopUtilization(loop0).utilization,
      };
    },
    warmUp: async (expected) => void (await run({ run: 'warm', expected })),
    settle: async () => void (await run({ run: 'settle' })),
    close: async () => {
      if (!proc.connected) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.disconnect();
      await gone;
    },
  };
}
