import { describe, expect, it } from 'vitest';

import { ConfigError } from './config.js';
import { parseLocatorConfig } from './locator-config.js';

describe('the record locator settings', () => {
  it('are off by default, with a poll of 2 s and filters stale after 15 s', () => {
    expect(parseLocatorConfig({})).toEqual({
      mode: 'off',
      pollMs: 2000,
      maxAgeMs: 15_000,
      rebuildMs: 500,
      idleAfterMs: 600_000,
      maxFilterBytes: 8 * 1024 * 1024,
    });
    expect(parseLocatorConfig({ MCX_LOCATOR_IDLE_AFTER_MS: '0' }).idleAfterMs).toBe(0);
    expect(parseLocatorConfig({ MCX_LOCATOR_IDLE_AFTER_MS: '15000' }).idleAfterMs).toBe(15_000);
    expect(() => parseLocatorConfig({ MCX_LOCATOR_IDLE_AFTER_MS: '14999' })).toThrow(/MCX_LOCATOR_IDLE_AFTER_MS/);
    expect(parseLocatorConfig({ MCX_LOCATOR: 'on', MCX_LOCATOR_POLL_MS: '300', MCX_LOCATOR_MAX_AGE_MS: '3000' })).toMatchObject({
      mode: 'on',
      pollMs: 300,
      maxAgeMs: 3000,
    });
  });

  it('refuse an unknown mode, a value out of range, and filters that go stale before they are confirmed', () => {
    expect(() => parseLocatorConfig({ MCX_LOCATOR: 'yes' })).toThrow(ConfigError);
    expect(() => parseLocatorConfig({ MCX_LOCATOR_POLL_MS: '10' })).toThrow(/MCX_LOCATOR_POLL_MS/);
    expect(() => parseLocatorConfig({ MCX_LOCATOR_POLL_MS: '5000', MCX_LOCATOR_MAX_AGE_MS: '4000' })).toThrow(/MCX_LOCATOR_MAX_AGE_MS/);
  });
});
