/**
 * How many federated reads a node takes on at once (MCX_FEDERATION_MAX_IN_FLIGHT, down to
 * MCX_FEDERATION_MIN_IN_FLIGHT while its event loop is busy), how many may
 * wait for a turn (MCX_FEDERATION_MAX_QUEUED) and for how long (MCX_FEDERATION_QUEUE_WAIT_MS),
 * and the Retry-After of the 503 the rest get (MCX_FEDERATION_RETRY_AFTER_SECONDS). Past its
 * capacity a node refuses new federated reads at once instead of taking them all on and letting
 * every one of them, and every member's breaker, time out.
 */
import { z } from 'zod';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const FederationLoadEnv = z.object({
  MCX_FEDERATION_MAX_IN_FLIGHT: int(8, 1, 10_000),
  MCX_FEDERATION_MIN_IN_FLIGHT: int(2, 1, 10_000),
  MCX_FEDERATION_MAX_QUEUED: int(16, 0, 100_000),
  MCX_FEDERATION_QUEUE_WAIT_MS: int(500, 0, 60_000),
  MCX_FEDERATION_RETRY_AFTER_SECONDS: int(2, 1, 3600),
});

export interface FederationLoadConfig {
  maxInFlight: number;
  /** The turns while the event loop is busy (http/federation-gate.ts); the maximum's value (or more) keeps them fixed. */
  minInFlight: number;
  maxQueued: number;
  queueWaitMs: number;
  retryAfterSeconds: number;
}

export interface FederationLoadParts {
  /** Admission of federated reads (http/federation-gate.ts). */
  federationLoad: FederationLoadConfig;
}

/** The problems with these settings, as parseConfig lists them. */
export function federationLoadProblems(env: Record<string, string | undefined>): string[] {
  const parsed = FederationLoadEnv.safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** The settings (call after federationLoadProblems found none). */
export function federationLoadConfig(env: Record<string, string | undefined>): FederationLoadParts {
  const e = FederationLoadEnv.parse(env);
  return {
    federationLoad: {
      maxInFlight: e.MCX_FEDERATION_MAX_IN_FLIGHT,
      minInFlight: e.MCX_FEDERATION_MIN_IN_FLIGHT,
      maxQueued: e.MCX_FEDERATION_MAX_QUEUED,
      queueWaitMs: e.MCX_FEDERATION_QUEUE_WAIT_MS,
      retryAfterSeconds: e.MCX_FEDERATION_RETRY_AFTER_SECONDS,
    },
  };
}
