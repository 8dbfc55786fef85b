/** An instant as nodes write one (Date.prototype.toISOString: ISO 8601 in UTC, `Z`), to at most nanoseconds. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * The instant `value` names in ms when it is written as nodes write times; NaN for anything else.
 * Date.parse alone also reads free text ("Mon Mar 03 2025 (anything)"), which a verifier would
 * then print, control sequences and all; and it rolls a day that does not exist (30 February,
 * 24:00) over into another, which a report would print as written but date as rolled.
 */
export function isoUtcMs(value: unknown): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) return Number.NaN;
  const ms = Date.parse(value);
  // The same calendar fields back: no roll-over.
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === value.slice(0, 19) ? ms : Number.NaN;
}
