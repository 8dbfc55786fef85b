/**
 * The alerts' limits (README "Configuration"), read from the environment with zod like config.ts
 * (which is full): how long a cross-match waits for members' mcx.holders/1 answers before its
 * summary and threshold go out without them, the per-member quota on incoming mcx.alert/1, and
 * how old (or how far ahead) an incoming alert's sentAt may be.
 */
import { z } from 'zod';

import { McxError } from '@mcx/errors';

/** The alert configuration's own error. */
export const AlertConfigErrorCode = { ALERT_CONFIG_INVALID: 'ALERT_CONFIG_INVALID' } as const;

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const AlertEnv = z.object({
  /** A member not answering mcx.holders/1 for this long after the cross-match first ran is reported as not answered. */
  MCX_ALERT_HOLDERS_WAIT_SECONDS: int(600, 1, 86_400),
  /** Incoming mcx.alert/1 messages taken per sending member per minute; more are refused and the member flagged. */
  MCX_ALERT_INBOUND_PER_MINUTE: int(600, 1, 100_000),
  /** The oldest sentAt taken: above the sender's retries (sixteen, with backoff from 2 s: about 73 hours). */
  MCX_ALERT_MAX_AGE_SECONDS: int(4 * 86_400, 60, 30 * 86_400),
  /** How far a sentAt may be ahead of this node's clock. */
  MCX_ALERT_CLOCK_SKEW_SECONDS: int(120, 0, 3_600),
});

export interface AlertLimits {
  holdersWaitMs: number;
  inboundPerMinute: number;
  maxAgeMs: number;
  skewMs: number;
}

/** Reads the alert limits; throws ALERT_CONFIG_INVALID naming the setting. */
export function alertLimits(env: Record<string, string | undefined> = process.env): AlertLimits {
  const parsed = AlertEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new McxError(AlertConfigErrorCode.ALERT_CONFIG_INVALID, `invalid alert configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    holdersWaitMs: e.MCX_ALERT_HOLDERS_WAIT_SECONDS * 1000,
    inboundPerMinute: e.MCX_ALERT_INBOUND_PER_MINUTE,
    maxAgeMs: e.MCX_ALERT_MAX_AGE_SECONDS * 1000,
    skewMs: e.MCX_ALERT_CLOCK_SKEW_SECONDS * 1000,
  };
}
