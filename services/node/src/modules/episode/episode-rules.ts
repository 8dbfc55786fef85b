const HOUR_MS = 3600_000;

/** True when the return home interview was offered within 72 hours of the child being found (exactly 72 is in time). */
export function offeredWithin72Hours(foundAt: string | null, offeredAt: string | null): boolean | null {
  if (!foundAt || !offeredAt) return null;
  return Date.parse(offeredAt) - Date.parse(foundAt) <= 72 * HOUR_MS;
}
