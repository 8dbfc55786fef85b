/**
 * The record locator's settings (README "The record locator"), read from the environment by the
 * node when it builds its services: whether this node serves its own membership filter and uses
 * the members' filters to ask only those that may hold a child.
 */
import { z } from 'zod';

import { ConfigError } from './config.js';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const LocatorEnv = z.object({
  /**
   * off (the default): no filter is built, served or used; every member is asked, as before.
   * serve: this node builds and serves its filter (mcx.filter/2) but still asks every member.
   * on: it serves its filter and asks only the members whose fresh filter may hold the child.
   */
  MCX_LOCATOR: z.enum(['off', 'serve', 'on']).default('off'),
  /**
   * The least time between two asks of one member. Each ask sends the version held (If-None-Match)
   * and is a long poll: the member holds it until its filter changes, or a third of MAX_AGE (at most 10 s).
   */
  MCX_LOCATOR_POLL_MS: int(2000, 200, 60_000),
  /** A member's filter not confirmed current for this long is stale: the member is asked, as before. */
  MCX_LOCATOR_MAX_AGE_MS: int(15_000, 1_000, 600_000),
  /** How often the owner checks whether its subjects changed; at most one rebuild per check. */
  MCX_LOCATOR_REBUILD_MS: int(500, 100, 60_000),
  /**
   * Polling pauses once this node has not searched for this long (0: it never pauses; otherwise at
   * least MCX_LOCATOR_MAX_AGE_MS); the next search asks every member whose filter has gone stale
   * meanwhile, and starts polling again.
   */
  MCX_LOCATOR_IDLE_AFTER_MS: int(600_000, 0, 86_400_000),
  /** The largest filter this node takes from a member (bytes of bits). */
  MCX_LOCATOR_MAX_FILTER_BYTES: int(8 * 1024 * 1024, 1024, 64 * 1024 * 1024),
});

export interface LocatorConfig {
  mode: 'off' | 'serve' | 'on';
  pollMs: number;
  maxAgeMs: number;
  rebuildMs: number;
  /** 0: polling never pauses. */
  idleAfterMs: number;
  maxFilterBytes: number;
}

/** Parses the locator's settings, or throws ConfigError listing every problem. */
export function parseLocatorConfig(env: Record<string, string | undefined>): LocatorConfig {
  const parsed = LocatorEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  if (e.MCX_LOCATOR_MAX_AGE_MS <= e.MCX_LOCATOR_POLL_MS)
    throw new ConfigError(['MCX_LOCATOR_MAX_AGE_MS: must be above MCX_LOCATOR_POLL_MS, or every filter is stale before it is confirmed']);
  // A pause shorter than a filter's life would let the first search after it skip members on filters nobody had confirmed since.
  if (e.MCX_LOCATOR_IDLE_AFTER_MS > 0 && e.MCX_LOCATOR_IDLE_AFTER_MS < e.MCX_LOCATOR_MAX_AGE_MS)
    throw new ConfigError(['MCX_LOCATOR_IDLE_AFTER_MS: must be 0 (never pause) or at least MCX_LOCATOR_MAX_AGE_MS']);
  return {
    mode: e.MCX_LOCATOR,
    pollMs: e.MCX_LOCATOR_POLL_MS,
    maxAgeMs: e.MCX_LOCATOR_MAX_AGE_MS,
    rebuildMs: e.MCX_LOCATOR_REBUILD_MS,
    idleAfterMs: e.MCX_LOCATOR_IDLE_AFTER_MS,
    maxFilterBytes: e.MCX_LOCATOR_MAX_FILTER_BYTES,
  };
}

/** Reads process.env (config.ts, at its size limit, does not carry these). */
export function loadLocatorConfig(): LocatorConfig {
  return parseLocatorConfig(process.env);
}
