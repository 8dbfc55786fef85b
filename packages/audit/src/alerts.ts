import { McxError } from '@mcx/errors';

import { AuditErrorCode } from './audit-errors.js';
import type { StoredEntry } from './chain.js';

/** The fishing signals an auditor sees (DESIGN.md "Auditors"). */
export type AlertKind = 'unusual_volume' | 'unusual_hours' | 'case_ref_missing' | 'case_ref_malformed';

/** One alert: an actor, how many of their consultations raised it, and a few seqs to look at first. */
export interface Alert {
  kind: AlertKind;
  /**
   * `issuer` null: entries that did not record it (before it was recorded). `requestingNode`: the
   * member node that stated this actor (another force's investigator); null for this node's own users.
   */
  actor: { subject: string; issuer: string | null; force: string; requestingNode: string | null };
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
  return new McxError(AuditErrorCode.ALERT_OPTIONS_INVALID, message);
}

/**
 * The reads that count: consultations here, and disclosures of this force's records to other
 * forces' investigators (`requestingNode` another member), since fishing across forces is still
 * fishing. A disclosure to this node's own request is the same read as its consultation, so it
 * does not count twice. Every outcome counts, since refused attempts are part of the pattern.
 * Without `node`, only consultations count.
 */
function reads(entries: readonly AlertInput[], node?: string): AlertInput[] {
  return entries.filter(
    (e) =>
      e.entry.action === 'consultation' ||
      (node !== undefined && e.entry.action === 'disclosure' && e.entry.requestingNode !== null && e.entry.requestingNode !== node),
  );
}

function group(kind: AlertKind, entries: readonly AlertInput[], sampleSize: number): Alert[] {
  const byActor = new Map<string, Alert>();
  for (const { seq, entry } of entries) {
    const { subject, force } = entry.actor;
    const issuer = entry.actor.issuer ?? null;
    const requestingNode = entry.requestingNode ?? null;
    // A subject is one person only at its issuer, and another force's user is only who the member
    // that relayed them says: the same subject at two issuers, or stated by two members, is two actors
    // (a member cannot merge its counts into another's, or into this node's own users').
    const key = `${force}\u0000${issuer ?? ''}\u0000${subject}\u0000${requestingNode ?? ''}`;
    let alert = byActor.get(key);
    if (alert === undefined) {
      alert = { kind, actor: { subject, issuer, force, requestingNode }, count: 0, sampleSeqs: [] };
      byActor.set(key, alert);
    }
    alert.count += 1;
    if (alert.sampleSeqs.length < sampleSize) alert.sampleSeqs.push(seq);
  }
  // Most first; ties in a fixed order, so the same window always gives the same list.
  return [...byActor.values()].sort(
    (a, b) =>
      b.count - a.count ||
      a.actor.force.localeCompare(b.actor.force) ||
      a.actor.subject.localeCompare(b.actor.subject) ||
      (a.actor.issuer ?? '').localeCompare(b.actor.issuer ?? '') ||
      (a.actor.requestingNode ?? '').localeCompare(b.actor.requestingNode ?? ''),
  );
}

function checkSampleSize(sampleSize: number): number {
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 0) throw invalid('sampleSize must be a non-negative integer');
  return sampleSize;
}

/** Actors with more reads than `perActorThreshold` in the window (`node`: this node, to count other forces' reads of its records). */
export function unusualVolume(
  entries: readonly AlertInput[],
  options: { perActorThreshold: number; sampleSize?: number; node?: string },
): Alert[] {
  const { perActorThreshold, sampleSize = DEFAULT_SAMPLE_SIZE, node } = options;
  if (!Number.isSafeInteger(perActorThreshold) || perActorThreshold < 0) throw invalid('perActorThreshold must be a non-negative integer');
  const rows = group('unusual_volume', reads(entries, node), checkSampleSize(sampleSize));
  // The threshold is on the person's reads however many members relayed them (a provider's user may
  // come through several): every member's row of a person over it is shown, so spreading reads across
  // members does not hide them, and one member's inflated count shows as that member's.
  const person = (a: Alert) => `${a.actor.force}\u0000${a.actor.issuer ?? ''}\u0000${a.actor.subject}`;
  const totals = new Map<string, number>();
  for (const a of rows) totals.set(person(a), (totals.get(person(a)) ?? 0) + a.count);
  return rows.filter((a) => totals.get(person(a))! > perActorThreshold);
}

/** Options for `unusualHours`: working hours are `startHour <= hour < endHour` local time (wrapping past midnight if start > end). */
export interface WorkingHours {
  startHour: number;
  endHour: number;
  timeZone: string;
  sampleSize?: number;
  /** This node: other forces' reads of its records count too. */
  node?: string;
}

/** Reads outside working hours (default 07:00-19:00 Europe/London, daylight saving included), per actor. */
export function unusualHours(
  entries: readonly AlertInput[],
  options: WorkingHours = { startHour: 7, endHour: 19, timeZone: 'Europe/London' },
): Alert[] {
  const { startHour, endHour, timeZone, sampleSize = DEFAULT_SAMPLE_SIZE, node } = options;
  const isHour = (h: number): boolean => Number.isSafeInteger(h) && h >= 0 && h <= 24;
  if (!isHour(startHour) || !isHour(endHour) || startHour === endHour)
    throw invalid('startHour and endHour must be distinct integers 0-24');
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' });
  } catch (cause) {
    throw new McxError(AuditErrorCode.ALERT_OPTIONS_INVALID, 'timeZone is not a known IANA time zone', { cause });
  }
  const working = (hour: number): boolean =>
    startHour < endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour;
  const outside = reads(entries, node).filter(({ entry }) => {
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

/**
 * Reads with a missing (`case_ref_missing`) or malformed (`case_ref_malformed`) case reference,
 * per actor. The pattern is this force's own format, so another force's reference is only
 * checked for being there (its own node checked its format).
 */
export function caseRefProblems(
  entries: readonly AlertInput[],
  options: { caseRefPattern?: RegExp; maxLength?: number; sampleSize?: number; node?: string } = {},
): Alert[] {
  const { caseRefPattern = DEFAULT_CASE_REF_PATTERN, maxLength = 32, sampleSize = DEFAULT_SAMPLE_SIZE, node } = options;
  const pattern = anchored(caseRefPattern);
  const size = checkSampleSize(sampleSize);
  const missing: AlertInput[] = [];
  const malformed: AlertInput[] = [];
  for (const e of reads(entries, node)) {
    const { caseRef } = e.entry;
    if (caseRef === null || caseRef.trim() === '') missing.push(e);
    else if (e.entry.action === 'consultation' && (caseRef.length > maxLength || !pattern.test(caseRef))) malformed.push(e);
  }
  return [...group('case_ref_missing', missing, size), ...group('case_ref_malformed', malformed, size)];
}
