/**
 * A subject's linkage keys from its identity: validated and normalised here, blinded at this node,
 * evaluated by the linkage service in one call, finalised here. The blinding and finalising run
 * on the OPRF worker thread (oprf-offload.ts), not on the caller's event loop.
 */
import { parseIdentity, type AssociateIdentity } from './identity.js';
import { buildKeyInputs, type KeyRole } from './keys.js';
import { NORMALISATION_VERSION } from './normalise.js';
import { seededBlinds, type DerivedLinkageKey, type LinkageEvaluator, type Rng } from './oprf-client.js';
import { oprfOffThread } from './oprf-offload.js';

const encoder = new TextEncoder();

/** Options for deriving a subject's keys. */
export interface DeriveOptions {
  role: KeyRole;
  /** Query only: send the name-only key even with a dob (age disputed). */
  includeNameOnly?: boolean;
  /** Clock for dob validation ("not in the future"). */
  now?: Date;
  rng?: Rng;
}

/**
 * Validate and normalise an identity, build its key inputs, blind them all, make ONE
 * evaluator call, and finalise. Throws McxError with a validation code on bad input.
 */
export async function deriveLinkageKeys(
  identity: AssociateIdentity,
  evaluator: LinkageEvaluator,
  options: DeriveOptions,
): Promise<DerivedLinkageKey[]> {
  const valid = parseIdentity(identity, options.now ? { now: options.now } : {});
  const inputs = buildKeyInputs(valid, {
    role: options.role,
    ...(options.includeNameOnly !== undefined && { includeNameOnly: options.includeNameOnly }),
  });
  if (inputs.length === 0) return [];
  // Blinding and finalising (about 0.5 ms a key) run on the OPRF worker thread, not this event loop.
  const bytes = inputs.map((k) => encoder.encode(k.input));
  const { blinded, blinds } = await oprfOffThread.blind(bytes, seededBlinds(bytes.length, options.rng));
  const { keyVersion, evaluated } = await evaluator.evaluate(blinded);
  const keys = await oprfOffThread.finalize({ inputs: bytes, blinds }, evaluated);
  return inputs.map((k, i) => {
    const d: DerivedLinkageKey = {
      kind: k.kind,
      strength: k.strength,
      keyVersion,
      normalisationVersion: NORMALISATION_VERSION,
      key: keys[i] ?? '',
    };
    if (k.variant) d.variant = k.variant;
    return d;
  });
}
