import { describe, expect, it } from 'vitest';

import { isoUtcMs } from './iso-time.js';

describe('isoUtcMs', () => {
  it('reads an instant as nodes write one, to ms or finer', () => {
    expect(isoUtcMs('2026-11-22T10:00:01.000Z')).toBe(Date.UTC(2026, 10, 22, 10, 0, 1));
    expect(isoUtcMs('2026-11-22T10:00:01Z')).toBe(Date.UTC(2026, 10, 22, 10, 0, 1));
    expect(isoUtcMs('2024-02-29T23:59:59.123456Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 123));
  });

  it('refuses free text, other zones and forms, and days that do not exist', () => {
    for (const value of [
      'later',
      'Mon Mar 03 2025 09:10:00 GMT+0000 (\u001b[2K ok)',
      '2026-11-22 10:00:01Z',
      '2026-11-22T10:00:01+00:00',
      '2026-11-22T10:00:01',
      '2026-11-22T10:00:01.000Z\n',
      '2025-02-29T00:00:00Z',
      '2025-02-30T00:00:00Z',
      '2025-04-31T00:00:00.000Z',
      '2025-03-03T24:00:00Z',
      '2025-03-03T23:59:60Z',
      '2025-13-01T00:00:00Z',
      '2025-03-03T09:10:00.1234567890Z',
      ' 2025-03-03T09:10:00Z',
      '٢٠٢٥-03-03T09:10:00Z',
      null,
      1741000000000,
    ])
      expect([value, isoUtcMs(value)]).toEqual([value, Number.NaN]);
  });
});
