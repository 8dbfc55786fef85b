/**
 * The OPRF's group arithmetic on a worker thread (piscina: a pool of Node worker threads), not on
 * the event loop that serves requests. A search derives about nine linkage keys: blinding and
 * finalising them at the node takes about 0.5 ms a key, and evaluating them at the linkage
 * service about 0.2 ms a key (bench:linkage). Handed to a worker a batch at a time, that time is
 * taken on another core, and the loop goes on answering meanwhile. The worker runs the same
 * functions as the synchronous path (oprf-worker.ts), so every key is the same.
 *
 * One pool per process, shared by every node or service in it, started on first use or by
 * `startOprfWorker()` (a node with linkage and the linkage service call it before they listen, so
 * a worker that cannot load stops them at start, not at the first search). Its one thread stays up
 * while the process runs (piscina unrefs it while idle, so it never keeps a process alive); more
 * threads on bigger machines, one core always left to the event loop.
 *
 * Bounded: at most MAX_PENDING_KEYS keys wait (about a second of work; LINKAGE_BUSY past that,
 * so a caller's 3 s deadline is not spent in the queue), each task at most TASK_TIMEOUT_MS in all
 * (LINKAGE_WORKER_UNAVAILABLE). A pool whose worker fails to load (piscina's `error`) refuses
 * every task with LINKAGE_WORKER_UNAVAILABLE for RETRY_AFTER_FAILURE_MS, then is started afresh.
 */
import { availableParallelism } from 'node:os';

import { Piscina } from 'piscina';

import { McxError } from '@mcx/errors';

import { LinkageErrorCode } from './linkage-errors.js';
import type { BlindState } from './oprf-client.js';
import type { LinkageKey } from './oprf-server.js';
import type { OprfOutcome, OprfTask } from './oprf-worker.js';

/**
 * The worker's module. The production build compiles it into a module of its own beside the
 * bundle and rewrites this URL to name that (scripts/build-prod.mjs). From the sources (a .ts
 * file), the worker loads it through oprf-worker-tsx.mjs, which registers tsx in that thread.
 */
const WORKER = new URL('./oprf-worker.ts', import.meta.url);
const workerFile = () => (WORKER.pathname.endsWith('.mjs') ? WORKER : new URL(WORKER.href.replace(/\.[^.]+$/, '-tsx.mjs'))).href;

/** Keys handed over and not yet answered: a search is 9 or so a task at the node (twice during a key changeover), a batch of up to MCX_LINKAGE_MAX_BATCH at the service. */
const MAX_PENDING_KEYS = 4096;
/** A task not done by then (waiting included) is abandoned; the queue's bound keeps that rare. */
const TASK_TIMEOUT_MS = 10_000;
/** How long a pool that failed refuses tasks before it is started afresh. */
const RETRY_AFTER_FAILURE_MS = 5_000;

let pool: Piscina<OprfTask, OprfOutcome> | null = null;
/** Why the pool's worker could not run (it failed to load), and when: tasks are refused until it is started afresh. */
let failed: { why: string; at: number } | null = null;

const unavailable = (why: string) =>
  new McxError(LinkageErrorCode.LINKAGE_WORKER_UNAVAILABLE, `the OPRF worker thread is unavailable: ${why}`);

/** What may be said of a pool error: its code or name, never its message (one piscina builds from a task's message). */
const describe = (err: unknown) => String((err as { code?: unknown })?.code ?? (err as { name?: unknown })?.name ?? 'unknown error');

function oprfPool(): Piscina<OprfTask, OprfOutcome> {
  const failure = oprfWorkerFailure();
  if (failure) throw unavailable(failure);
  if (failed) {
    failed = null;
    void pool?.destroy().catch(() => undefined);
    pool = null;
  }
  if (!pool) {
    const started = new Piscina<OprfTask, OprfOutcome>({
      filename: workerFile(),
      minThreads: 1,
      maxThreads: Math.max(1, Math.min(4, availableParallelism() - 1)),
      idleTimeout: 60_000,
    });
    // Emitted when a worker fails outside a task (it cannot load): unheard, it would end the process.
    // A pool already replaced says nothing of the one in use.
    started.on('error', (err: unknown) => {
      if (pool === started) failed = { why: describe(err), at: Date.now() };
    });
    pool = started;
  }
  return pool;
}

/** Why the OPRF worker thread cannot run now (it failed to load), or null: for a health check. */
export function oprfWorkerFailure(): string | null {
  return failed && Date.now() - failed.at < RETRY_AFTER_FAILURE_MS ? failed.why : null;
}

/** Keys handed to the pool and not yet settled (piscina's own maxQueue does not count tasks posted to a busy worker). */
let pendingKeys = 0;

async function run<K extends string>(task: OprfTask, key: K): Promise<Extract<OprfOutcome, Record<K, unknown>>> {
  const pool = oprfPool();
  const keys = task.op === 'blind' ? task.inputs.length : task.op === 'finalize' ? task.evaluated.length : task.blinded.length;
  // One batch larger than the bound is still taken when nothing waits.
  if (pendingKeys > 0 && pendingKeys + keys > MAX_PENDING_KEYS)
    throw new McxError(LinkageErrorCode.LINKAGE_BUSY, `the OPRF worker thread has ${pendingKeys} keys waiting; retry shortly`);
  let outcome: OprfOutcome;
  pendingKeys += keys;
  try {
    outcome = await pool.run(task, { signal: AbortSignal.timeout(TASK_TIMEOUT_MS) });
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw unavailable(`no answer within ${TASK_TIMEOUT_MS / 1000} s`);
    throw unavailable(failed?.why ?? describe(err));
  } finally {
    pendingKeys -= keys;
  }
  if ('refused' in outcome) throw new McxError(outcome.refused.code, outcome.refused.message);
  if (!(key in outcome)) throw unavailable(`it answered a ${task.op} task without ${key}`);
  return outcome as Extract<OprfOutcome, Record<K, unknown>>;
}

/** The OPRF steps of oprf-client.ts and oprf-server.ts, run on the pool's worker thread. */
export const oprfOffThread = {
  /** blindWith: with `blinds` null, a fresh random blind each (drawn on the worker). */
  blind: (inputs: Uint8Array[], blinds: Uint8Array[] | null) => run({ op: 'blind', inputs, blinds }, 'blinded'),
  /** finalizeAll: the linkage keys, in input order; LINKAGE_EVALUATION_INVALID as it refuses. */
  finalize: async (state: BlindState, evaluated: Uint8Array[]) =>
    (await run({ op: 'finalize', state: { inputs: [...state.inputs], blinds: [...state.blinds] }, evaluated }, 'keys')).keys,
  /** evaluateBatch: LINKAGE_BLINDED_INVALID or LINKAGE_KEY_INVALID as it refuses. */
  evaluate: async (key: LinkageKey, blinded: Uint8Array[]) => (await run({ op: 'evaluate', key, blinded }, 'evaluated')).evaluated,
};

// RFC 9497 A.1.1, vector 1: the blind of input 0x00, a known answer for the start check.
const KNOWN_BLIND = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';
const KNOWN_BLINDED = '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c';

/**
 * Starts the worker thread and checks it on a known answer (RFC 9497's first test vector):
 * LINKAGE_WORKER_UNAVAILABLE when it cannot load (its module missing beside the build, say) or
 * answers wrong. Called before a node or the linkage service listens.
 */
export async function startOprfWorker(): Promise<void> {
  const { blinded } = await oprfOffThread.blind([Uint8Array.of(0)], [Uint8Array.from(Buffer.from(KNOWN_BLIND, 'hex'))]);
  if (Buffer.from(blinded[0] ?? []).toString('hex') !== KNOWN_BLINDED) throw unavailable('it gave a wrong known answer');
}
