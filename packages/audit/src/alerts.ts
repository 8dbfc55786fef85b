import { McxError } from '@mcx/errors';
import type { StoredEntry } from './chain.js';

/** The fishing signals an auditor sees (DESIGN.md "Auditors"). */
export type AlertKind = 'unusual_volume' | 'unusual_hours' | 'case_ref_missing' | 'case_ref_malformed';

/** One alert: an actor, how many of their consultations raised it, and a few seqs to look at first. */
export interface Alert {
  kind: AlertKind;
  actor: { subject: string; force: string };
  count: number;
  sampleSeqs: number[];
}

/** What the alert helpers read: a stored entry's seq and entry, from one time window. */
export type AlertInput = Pick<StoredEntry, 'seq' | 'entry'>;

/** Default sample size of `sampleSeqs`. */
export const DEFAULT_SAMPLE_SIZE = 5;

/** Same default as `@mcx/auth` `DEFAULT_CASE_REF_RULES`: `MPS-24-001234`. Pass the force's own pattern. */
export const DEFAULT_CASE_REF_PATTERN = /^[A-Z]{2,4}-\d{2,4}-\d{1,10}$/;

function invalid(message: string): McxError {
  return new McxError('ALERT_OPTIONS_INVALID', message);
}

// Only consultations count: reading records is what fishing is. Every outcome counts, since
// refused attempts are part of the pattern.
function consultations(entries: readonly AlertInput[]): AlertInput[] {
  return entries.filter((e) => e.entry.action === 'consultation');
}

function group(kind: AlertKind, entries: readonly AlertInput[], sampleSize: number): Alert[] {
  const byActor = new Map<string, Alert>();
  for (const { seq, entry } of entries) {
    const { subject, force } = entry.actor;
    const key = `${force}\u0000${subject}`;
    let alert = byActor.get(key);
    if (alert === undefined) {
      alert = { kind, actor: { subject, force }, count: 0, sampleSeqs: [] };
      byActor.set(key, alert);
    }
    alert.count += 1;
    if (alert.sampleSeqs.length < sampleSize) alert.sampleSeqs.push(seq);
  }
  // Most first; ties in a fixed order, so the same window always gives the same list.
  return [...byActor.values()].sort(
    (a, b) => b.count - a.count || a.actor.force.localeCompare(b.actor.force) || a.actor.subject.localeCompare(b.actor.subject),
  );
}

function checkSampleSize(sampleSize: number): number {
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 0) throw invalid('sampleSize must be a non-negative integer');
  return sampleSize;
}

/** Actors with more consultations than `perActorThreshold` in the window. */
export function unusualVolume(
  entries: readonly AlertInput[],
  options: { perActorThreshold: number; sampleSize?: number },
): Alert[] {
  const { perActorThreshold, sampleSize = DEFAULT_SAMPLE_SIZE } = options;
  if (!Number.isSafeInteger(perActorThreshold) || perActorThreshold < 0) throw invalid('perActorThreshold must be a non-negative integer');
  return group('unusual_volume', consultations(entries), checkSampleSize(sampleSize)).filter((a) => a.count > perActorThreshold);
}

/** Options for `unusualHours`: working hours are `startHour <= hour < endHour` local time (wrapping past midnight if start > end). */
export interface WorkingHours {
  startHour: number;
  endHour: number;
  timeZone: string;
  sampleSize?: number;
}

/** Consultations outside working hours (default 07:00-19:00 Europe/London, daylight saving included), per actor. */
export function unusualHours(
  entries: readonly AlertInput[],
  options: WorkingHours = { startHour: 7, endHour: 19, timeZone: 'Europe/London' },
): Alert[] {
  const { startHour, endHour, timeZone, sampleSize = DEFAULT_SAMPLE_SIZE } = options;
  const isHour = (h: number): boolean => Number.isSafeInteger(h) && h >= 0 && h <= 24;
  if (!isHour(startHour) || !isHour(endHour) || startHour === endHour) throw invalid('startHour and endHour must be distinct integers 0-24');
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' });
  } catch (cause) {
    throw new McxError('ALERT_OPTIONS_INVALID', 'timeZone is not a known IANA time zone', { cause });
  }
  const working = (hour: number): boolean => (startHour < endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour);
  const outside = consultations(entries).filter(({ entry }) => {
    const time = Date.parse(entry.at);
    if (Number.isNaN(time)) return true; // an entry with no valid time is itself worth a look
    const hour = Number(format.formatToParts(time).find((p) => p.type === 'hour')?.value);
    return !working(hour);
  });
  return group('unusual_hours', outside, checkSampleSize(sampleSize));
}

function anchored(pattern: RegExp): RegExp {
  // An unanchored pattern would accept a name around a valid reference; g/y make test() stateful.
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$')) throw invalid('caseRefPattern must be anchored with ^ and $');
  return /[gy]/.test(pattern.flags) ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
}

/** Consultations with a missing (`case_ref_missing`) or malformed (`case_ref_malformed`) case reference, per actor. */
export function caseRefProblems(
  entries: readonly AlertInput[],
  options: { caseRefPattern?: RegExp; maxLength?: number; sampleSize?: number } = {},
): Alert[] {
  const { caseRefPattern = DEFAULT_CASE_REF_PATTERN, maxLength = 32, sampleSize = DEFAULT_SAMPLE_SIZE } = options;
  const pattern = anchored(caseRefPattern);
  const size = checkSampleSize(sampleSize);
  const missing: AlertInput[] = [];
  const malformed: AlertInput[] = [];
  for (const e of consultations(entries)) {
    const { caseRef } = e.entry;
    if (caseRef === null || caseRef.trim() === '') missing.push(e);
    else if (caseRef.length > maxLength || !pattern.test(caseRef)) malformed.push(e);
  }
  return [...group('case_ref_missing', missing, size), ...group('case_ref_malformed', malformed, size)];
}
