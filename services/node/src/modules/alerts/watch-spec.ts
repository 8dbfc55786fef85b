/** The input rules of a watch: a subject reference, and an expiry in the future, at most 90 days away. */
import { AlertErrorCode } from './alert-model.js';

/** The longest a watch runs before it must be renewed. */
export const MAX_WATCH_DAYS = 90;
const SUBJECT_REF = /^[^\s]{1,128}$/;

export type WatchCheck<T> = { ok: T } | { refused: AlertErrorCode | 'INVALID_SUBJECT_REF'; message: string };

export function checkExpiry(expiresAt: string, now: Date): WatchCheck<string> {
  const at = Date.parse(expiresAt);
  if (!Number.isFinite(at) || at <= now.getTime() || at > now.getTime() + MAX_WATCH_DAYS * 86_400_000)
    return {
      refused: AlertErrorCode.WATCH_EXPIRY_OUT_OF_RANGE,
      message: `expiresAt must be in the future and at most ${MAX_WATCH_DAYS} days away`,
    };
  return { ok: new Date(at).toISOString() };
}

export function checkSubjectRef(subjectRef: string): WatchCheck<string> {
  return SUBJECT_REF.test(subjectRef)
    ? { ok: subjectRef }
    : { refused: 'INVALID_SUBJECT_REF', message: 'subjectRef must be 1 to 128 characters without spaces' };
}
