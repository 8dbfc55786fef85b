/**
 * The fishing alerts an auditor reads (DESIGN.md "Auditors"): over the reads in a window,
 * consultations here and other forces' reads of this force's records. The record locator's
 * filter polls are left out (node-to-node traffic every few seconds, no person's reads).
 */
import { caseRefProblems, unusualHours, unusualVolume, type Alert } from '@mcx/audit';

import { BadUserInputError } from '../../errors.js';
import { LOCATOR_TRAFFIC, type AuditStore } from './audit-store.js';

/** The most reads one window is read for: past it the alerts would be computed on part of the window, so the window is refused. */
export const ALERT_MAX_READS = 100_000;

export interface FishingOptions {
  from: Date;
  to: Date;
  perActorThreshold: number;
  caseRefPattern: RegExp;
  /** ALERT_MAX_READS unless a test says otherwise. */
  maxReads?: number;
}

/** The alerts of a window, or BAD_USER_INPUT (ALERT_WINDOW_TOO_LARGE) when it holds more reads than can be read at once. */
export async function fishingAlerts(store: Pick<AuditStore, 'list'>, node: string, opts: FishingOptions): Promise<Alert[]> {
  const maxReads = opts.maxReads ?? ALERT_MAX_READS;
  const entries = await store.list(
    { from: opts.from, to: opts.to, actions: ['consultation', 'disclosure'], notOperations: LOCATOR_TRAFFIC },
    { first: maxReads + 1 },
  );
  if (entries.length > maxReads)
    throw new BadUserInputError(`more than ${maxReads} reads in this window: choose a shorter one`, {
      field: 'from',
      reason: 'ALERT_WINDOW_TOO_LARGE',
    });
  return [
    ...unusualVolume(entries, { perActorThreshold: opts.perActorThreshold, node }),
    ...unusualHours(entries, { startHour: 7, endHour: 19, timeZone: 'Europe/London', node }),
    ...caseRefProblems(entries, { caseRefPattern: opts.caseRefPattern, node }),
  ];
}
