import { describe, expect, it } from 'vitest';

import { alertLimits } from './alert-config.js';

describe('alert limits', () => {
  it('defaults: a 600 s wait, 600 alerts a minute per member, 4 days old at most, 120 s ahead', () => {
    expect(alertLimits({})).toEqual({ holdersWaitMs: 600_000, inboundPerMinute: 600, maxAgeMs: 345_600_000, skewMs: 120_000 });
  });

  it('reads each setting', () => {
    expect(
      alertLimits({
        MCX_ALERT_HOLDERS_WAIT_SECONDS: '3',
        MCX_ALERT_INBOUND_PER_MINUTE: '40',
        MCX_ALERT_MAX_AGE_SECONDS: '3600',
        MCX_ALERT_CLOCK_SKEW_SECONDS: '0',
      }),
    ).toEqual({ holdersWaitMs: 3_000, inboundPerMinute: 40, maxAgeMs: 3_600_000, skewMs: 0 });
  });

  it('refuses a value out of range or not a number, naming the setting (ALERT_CONFIG_INVALID)', () => {
    for (const env of [
      { MCX_ALERT_HOLDERS_WAIT_SECONDS: '0' },
      { MCX_ALERT_INBOUND_PER_MINUTE: 'many' },
      { MCX_ALERT_MAX_AGE_SECONDS: '59' },
      { MCX_ALERT_CLOCK_SKEW_SECONDS: '3601' },
    ]) {
      const name = Object.keys(env)[0]!;
      expect(() => alertLimits(env)).toThrow(
        expect.objectContaining({ code: 'ALERT_CONFIG_INVALID', message: expect.stringContaining(name) }),
      );
    }
  });
});
