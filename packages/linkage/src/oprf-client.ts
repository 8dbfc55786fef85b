import { McxError } from '@mcx/errors';

import type { KeyKind, KeyStrength, KeyVariant } from './keys.js';
import { LinkageErrorCode } from './linkage-errors.js';
import { blindElement, finalizeElement, randomScalar, scalarFromRng } from './oprf-suite.js';

const encoder = new TextEncoder();

/** Bytes of the RFC 9497 output (SHA-512, 64 bytes) kept as the linkage key: 256 bits. */
const LINKAGE_KEY_BYTES = 32;

/** Source of randomness for blinds: returns `n` random bytes (tests pass a seeded one). */
export type Rng = (n?: number) => Uint8Array;

/**
 * Node-side secrets from blinding: the inputs and their blinds. Keep in memory for the
 * one round trip; never log, persist or send it.
 */
export interface BlindState {
  readonly inputs: readonly Uint8Array[];
  readonly blinds: readonly Uint8Array[];
}

/** What the linkage service answers: evaluated points, in order, and its key version. */
export interface LinkageEvaluator {
  evaluate(blinded: Uint8Array[]): Promise<{ keyVersion: string; evaluated: Uint8Array[] }>;
}

/** One linkage key of a subject, ready to store (record) or look up (query). */
export interface DerivedLinkageKey {
  kind: KeyKind;
  strength: KeyStrength;
  variant?: KeyVariant;
  keyVersion: string;
  /** NORMALISATION_VERSION the key input was built under; store it to know when to re-key. */
  normalisationVersion: string;
  /** base64url of the first 32 bytes of the OPRF output. */
  key: string;
}

/** Blind every input (fresh random blind each). Send `blinded`; keep `state` secret. */
export function blindAll(inputs: readonly string[], rng?: Rng): { blinded: Uint8Array[]; state: BlindState } {
  const bytes = inputs.map((s) => encoder.encode(s));
  const { blinded, blinds } = blindWith(bytes, seededBlinds(bytes.length, rng));
  return { blinded, state: { inputs: bytes, blinds } };
}

/** `count` blinds drawn from a caller's byte source (tests seed it); null without one (blindWith draws fresh ones). */
export function seededBlinds(count: number, rng: Rng | undefined): Uint8Array[] | null {
  return rng ? Array.from({ length: count }, () => scalarFromRng(rng)) : null;
}

/** Blind each input with its blind from `blinds`, or with a fresh random one each when `blinds` is null. */
export function blindWith(
  inputs: readonly Uint8Array[],
  blinds: readonly Uint8Array[] | null,
): { blinded: Uint8Array[]; blinds: Uint8Array[] } {
  const used = inputs.map((_, i) => blinds?.[i] ?? randomScalar());
  return { blinded: inputs.map((b, i) => blindElement(b, used[i]!)), blinds: used };
}

/** Unblind the service's answers into linkage keys (base64url), in input order. */
export function finalizeAll(state: BlindState, evaluated: readonly Uint8Array[]): string[] {
  if (evaluated.length !== state.inputs.length) {
    throw new McxError(
      LinkageErrorCode.LINKAGE_EVALUATION_INVALID,
      `expected ${state.inputs.length} evaluated elements, got ${evaluated.length}`,
    );
  }
  return evaluated.map((e, i) => {
    const input = state.inputs[i];
    const blind = state.blinds[i];
    if (!input || !blind) throw new McxError(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, `blind state missing entry ${i}`);
    try {
      const out = finalizeElement(input, blind, e);
      return Buffer.from(out.subarray(0, LINKAGE_KEY_BYTES)).toString('base64url');
    } catch (cause) {
      throw new McxError(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, `evaluated element ${i} is not a valid ristretto255 point`, {
        cause,
      });
    }
  });
}
