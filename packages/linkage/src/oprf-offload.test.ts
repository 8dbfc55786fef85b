import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import { deriveLinkageKeys } from './derive-keys.js';
import { blindAll, finalizeAll, type LinkageEvaluator, type Rng } from './oprf-client.js';
import { oprfOffThread } from './oprf-offload.js';
import { createInProcessEvaluator, deriveOprfKey, evaluateBatch } from './oprf-server.js';

// The OPRF on the pool's worker thread gives what the synchronous functions give, byte for byte,
// and refuses what they refuse with the same McxError codes (an Error crossing threads loses both).
const KEY = deriveOprfKey('2025-01', new Uint8Array(32).fill(1));
const now = new Date('2025-06-01T00:00:00Z');
const child = { forename: 'Olivia', surname: 'Hart', dob: '2009-04-02', sex: 'F' as const, nhsNumber: '9990000026' };
const encode = (s: string) => new TextEncoder().encode(s);
/** A byte source that repeats from `seed` (each call a fresh copy of the same sequence). */
const seeded =
  (seed: number): Rng =>
  (n = 48) => {
    let x = seed;
    return Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) & 0xff);
  };
const hex = (xs: readonly Uint8Array[]) => xs.map((x) => Buffer.from(x).toString('hex'));

describe('the OPRF off the event loop', () => {
  it('blinds, evaluates and finalises exactly as the synchronous path, on another thread', async () => {
    const inputs = ['alpha', 'Z'.repeat(200), '\u00e9l\u00e8ve', ''].map(encode);
    const sync = blindAll(['alpha', 'Z'.repeat(200), '\u00e9l\u00e8ve', ''], seeded(7));
    const off = await oprfOffThread.blind(inputs, [...sync.state.blinds]);
    expect(hex(off.blinded)).toEqual(hex(sync.blinded));
    expect(hex(off.blinds)).toEqual(hex(sync.state.blinds));
    const evaluated = await oprfOffThread.evaluate(KEY, off.blinded);
    expect(hex(evaluated)).toEqual(hex(evaluateBatch(KEY, sync.blinded)));
    expect(await oprfOffThread.finalize(sync.state, evaluated)).toEqual(finalizeAll(sync.state, evaluated));
  });

  it('draws a fresh blind for each input when given none: a different blinded element each time, the same key at the end', async () => {
    const inputs = [encode('alpha'), encode('alpha')];
    const { blinded, blinds } = await oprfOffThread.blind(inputs, null);
    expect(new Set(hex(blinds)).size).toBe(2);
    expect(hex(blinded)[0]).not.toBe(hex(blinded)[1]);
    const keys = await oprfOffThread.finalize({ inputs, blinds }, await oprfOffThread.evaluate(KEY, blinded));
    expect(keys[0]).toBe(keys[1]);
  });

  it('derives the same linkage keys through deriveLinkageKeys as the synchronous functions do with the same blinds', async () => {
    const keys = await deriveLinkageKeys(child, createInProcessEvaluator(KEY), { role: 'record', now, rng: seeded(3) });
    const { blinded, state } = blindAll(
      (await import('./keys.js')).buildKeyInputs(child, { role: 'record' }).map((k) => k.input),
      seeded(3),
    );
    expect(keys.map((k) => k.key)).toEqual(finalizeAll(state, evaluateBatch(KEY, blinded)));
  });

  it('refuses as the synchronous functions refuse, with their codes', async () => {
    const inputs = [encode('alpha')];
    const { blinded, blinds } = await oprfOffThread.blind(inputs, null);
    const invalidPoint = new Uint8Array(32).fill(0xff);
    const refusals = [
      [() => oprfOffThread.finalize({ inputs, blinds }, []), 'LINKAGE_EVALUATION_INVALID'],
      [() => oprfOffThread.finalize({ inputs, blinds }, [invalidPoint]), 'LINKAGE_EVALUATION_INVALID'],
      // The identity element: refused as RFC 9497 requires.
      [() => oprfOffThread.finalize({ inputs, blinds }, [new Uint8Array(32)]), 'LINKAGE_EVALUATION_INVALID'],
      [() => oprfOffThread.evaluate(KEY, [invalidPoint]), 'LINKAGE_BLINDED_INVALID'],
      [() => oprfOffThread.evaluate({ version: 'bad', key: '00'.repeat(32) }, blinded), 'LINKAGE_KEY_INVALID'],
    ] as const;
    for (const [refused, code] of refusals) {
      const err = await refused().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, code).toBeInstanceOf(McxError);
      expect(err).toMatchObject({ code });
    }
  });

  it('gives a lying evaluator (too few elements) the coded refusal through deriveLinkageKeys', async () => {
    const short: LinkageEvaluator = {
      evaluate: async (blinded) => ({ keyVersion: KEY.version, evaluated: evaluateBatch(KEY, blinded).slice(1) }),
    };
    await expect(deriveLinkageKeys(child, short, { role: 'record', now })).rejects.toMatchObject({ code: 'LINKAGE_EVALUATION_INVALID' });
  });

  it('refuses past 4,096 keys waiting with LINKAGE_BUSY, at once, and answers every task it took', async () => {
    const inputs = Array.from({ length: 16 }, (_, i) => encode(`alpha-${i}`));
    const { blinded } = await oprfOffThread.blind(inputs, null);
    const expected = hex(evaluateBatch(KEY, blinded));
    const settled = await Promise.allSettled(Array.from({ length: 400 }, () => oprfOffThread.evaluate(KEY, blinded)));
    const refused = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const answered = settled.flatMap((r) => (r.status === 'fulfilled' ? [hex(r.value)] : []));
    // 400 batches of 16: 256 of them (4,096 keys) taken, the rest refused.
    expect(refused).toHaveLength(144);
    for (const err of refused) expect(err).toMatchObject({ code: 'LINKAGE_BUSY' });
    expect(answered).toHaveLength(256);
    for (const a of answered) expect(a).toEqual(expected);
    // The queue drained: the next task is taken.
    expect(hex(await oprfOffThread.evaluate(KEY, blinded))).toEqual(expected);
  });

  it('keeps serving requests on this thread while a batch is evaluated on the worker', async () => {
    const many = await oprfOffThread.blind(
      Array.from({ length: 400 }, (_, i) => encode(`input-${i}`)),
      null,
    );
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await oprfOffThread.evaluate(KEY, many.blinded);
    clearInterval(timer);
    // 400 evaluations take tens of milliseconds; this loop's 1 ms timer ran meanwhile.
    expect(ticks).toBeGreaterThan(3);
  });
});
