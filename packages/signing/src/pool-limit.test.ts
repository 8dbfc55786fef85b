import { describe, expect, it } from 'vitest';

import { poolLimiter } from './pool-limit.js';

describe('poolLimiter', () => {
  it('sends at most `limit` calls to the pool at once, does the rest in place, and frees a slot as each settles', async () => {
    const limiter = poolLimiter(2);
    const release: Array<() => void> = [];
    const where: string[] = [];
    const call = (i: number) =>
      limiter.run(
        () =>
          new Promise<string>((resolve) => {
            where.push(`pool ${i}`);
            release.push(() => resolve(`pool ${i}`));
          }),
        () => {
          where.push(`in place ${i}`);
          return `in place ${i}`;
        },
      );
    const first = [call(1), call(2), call(3), call(4)];
    expect(await Promise.all(first.slice(2))).toEqual(['in place 3', 'in place 4']);
    expect([where, limiter.inFlight]).toEqual([['pool 1', 'pool 2', 'in place 3', 'in place 4'], 2]);
    release.shift()!();
    expect(await first[0]).toBe('pool 1');
    expect(limiter.inFlight).toBe(1);
    // A freed slot is used again.
    const fifth = call(5);
    expect(limiter.inFlight).toBe(2);
    release.shift()!();
    release.shift()!();
    expect(await Promise.all([first[1], fifth])).toEqual(['pool 2', 'pool 5']);
    expect(limiter.inFlight).toBe(0);
  });

  it('frees the slot of pooled work that fails, and passes the failure on', async () => {
    const limiter = poolLimiter(1);
    await expect(
      limiter.run(
        () => Promise.reject(new Error('bad key')),
        () => 'in place',
      ),
    ).rejects.toThrow('bad key');
    expect(limiter.inFlight).toBe(0);
    expect(
      await limiter.run(
        () => Promise.resolve('pool'),
        () => 'in place',
      ),
    ).toBe('pool');
  });

  it('with a limit of 0, does everything in place', async () => {
    const limiter = poolLimiter(0);
    expect(
      await limiter.run(
        () => Promise.resolve('pool'),
        () => 'in place',
      ),
    ).toBe('in place');
    expect(() => poolLimiter(-1)).toThrow(RangeError);
  });
});
