/**
 * The OPRF's group arithmetic on a worker thread (piscina: a pool of Node worker threads), not on
 * the event loop that serves requests. A search derives about nine linkage keys: blinding and
 * finalising them at the node, and evaluating them at the linkage service, each hold a thread
 * for about 2 ms, in one batch. Handed to a worker, that time is taken on another core, and the
 * loop goes on answering meanwhile. The worker runs the same functions as the synchronous path
 * (oprf-worker.ts), so every key is the same.
 *
 * One pool per process, shared by every node or service in it, started on first use. Its one
 * thread stays up while the process runs (piscina unrefs it while idle, so it never keeps a
 * process alive); more threads on bigger machines, one core always left to the event loop.
 */
import { availableParallelism } from 'node:os';

import { Piscina } from 'piscina';

import { McxError } from '@mcx/errors';

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

let pool: Piscina<OprfTask, OprfOutcome> | null = null;

function oprfPool(): Piscina<OprfTask, OprfOutcome> {
  pool ??= new Piscina<OprfTask, OprfOutcome>({
    filename: workerFile(),
    minThreads: 1,
    maxThreads: Math.max(1, Math.min(4, availableParallelism() - 1)),
    idleTimeout: 60_000,
  });
  return pool;
}

async function run<K extends string>(task: OprfTask, key: K): Promise<Extract<OprfOutcome, Record<K, unknown>>> {
  const outcome = await oprfPool().run(task);
  if ('refused' in outcome) throw new McxError(outcome.refused.code, outcome.refused.message);
  if (!(key in outcome)) throw new Error(`the OPRF worker answered a ${task.op} task without ${key}`);
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
