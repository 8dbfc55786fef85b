/**
 * The OPRF's group arithmetic off the caller's event loop: each worker thread of oprf-offload.ts's
 * pool loads this module, and piscina calls its default export with one task at a time. It runs
 * the very functions of the synchronous path (oprf-client.ts, oprf-server.ts), so what it gives
 * is byte for byte what they give. A refusal (an invalid element, a bad key) comes back as its
 * code and message, for the caller to throw as the same McxError: an Error crossing threads
 * loses its class and its code.
 */
import { isMcxError } from '@mcx/errors';

import { LinkageErrorCode } from './linkage-errors.js';
import { blindWith, finalizeAll, type BlindState } from './oprf-client.js';
import { evaluateBatch, type LinkageKey } from './oprf-server.js';

export type OprfTask =
  /** Blind each input; with `blinds` null, a fresh random blind each. */
  | { op: 'blind'; inputs: Uint8Array[]; blinds: Uint8Array[] | null }
  | { op: 'finalize'; state: BlindState; evaluated: Uint8Array[] }
  | { op: 'evaluate'; key: LinkageKey; blinded: Uint8Array[] };

export type OprfOutcome =
  | { blinded: Uint8Array[]; blinds: Uint8Array[] }
  | { keys: string[] }
  | { evaluated: Uint8Array[] }
  | { refused: { code: LinkageErrorCode; message: string } };

export default function runOprfTask(task: OprfTask): OprfOutcome {
  try {
    if (task.op === 'blind') return blindWith(task.inputs, task.blinds);
    if (task.op === 'finalize') return { keys: finalizeAll(task.state, task.evaluated) };
    return { evaluated: evaluateBatch(task.key, task.blinded) };
  } catch (err) {
    if (isMcxError(err, LinkageErrorCode)) return { refused: { code: err.code, message: err.message } };
    throw err;
  }
}
