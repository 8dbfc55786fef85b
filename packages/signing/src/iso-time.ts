/** An instant as nodes write one (Date.prototype.toISOString: ISO 8601 in UTC, `Z`), to at most nanoseconds. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * The instant `value` names in ms when it is written as nodes write times; NaN for anything else.
 * Date.parse alone also reads free text ("Mon Mar 03 2025 (anything)"), which a verifier would
 * then print, control sequences and all.
 */
export function isoUtcMs(value: unknown): number {
  return typeof value === 'string' && ISO_UTC.test(value) ? Date.parse(value) : Number.NaN;
}
