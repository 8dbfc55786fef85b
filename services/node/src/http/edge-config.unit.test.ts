import { describe, expect, it } from 'vitest';

import { ConfigError, parseConfig } from '../config.js';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('the HTTP edge settings', () => {
  it('defaults: 4 KiB before a credential, JSON nested 32 deep, shed at 1 s of event-loop delay, Retry-After 10 s', () => {
    expect(parseConfig({}).http).toEqual({
      anonymousMaxBodyBytes: 4096,
      maxJsonDepth: 32,
      pressure: { maxEventLoopDelayMs: 1000, maxEventLoopUtilization: 0, maxHeapUsedBytes: 0, maxRssBytes: 0, retryAfterSeconds: 10 },
    });
  });

  it('reads each setting', () => {
    const config = parseConfig({
      MCX_ANONYMOUS_MAX_BODY_BYTES: '8192',
      MCX_MAX_JSON_DEPTH: '64',
      MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      MCX_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0.98',
      MCX_PRESSURE_MAX_HEAP_BYTES: '1073741824',
      MCX_PRESSURE_MAX_RSS_BYTES: '2147483648',
      MCX_PRESSURE_RETRY_AFTER_SECONDS: '30',
    });
    expect(config.http).toEqual({
      anonymousMaxBodyBytes: 8192,
      maxJsonDepth: 64,
      pressure: {
        maxEventLoopDelayMs: 0,
        maxEventLoopUtilization: 0.98,
        maxHeapUsedBytes: 1073741824,
        maxRssBytes: 2147483648,
        retryAfterSeconds: 30,
      },
    });
  });

  it.each([
    [
      'an anonymous limit above the body limit',
      { MCX_MAX_BODY_BYTES: '4096', MCX_ANONYMOUS_MAX_BODY_BYTES: '8192' },
      'MCX_ANONYMOUS_MAX_BODY_BYTES: must be at most MCX_MAX_BODY_BYTES',
    ],
    ['a JSON depth below 4', { MCX_MAX_JSON_DEPTH: '2' }, 'MCX_MAX_JSON_DEPTH'],
    ['an event-loop utilisation above 1', { MCX_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '1.5' }, 'MCX_PRESSURE_MAX_EVENT_LOOP_UTILIZATION'],
    ['a Retry-After of 0', { MCX_PRESSURE_RETRY_AFTER_SECONDS: '0' }, 'MCX_PRESSURE_RETRY_AFTER_SECONDS'],
  ])('refuses %s', (_label, env, problem) => {
    expect(problems(env).some((p) => p.startsWith(problem))).toBe(true);
  });
});
