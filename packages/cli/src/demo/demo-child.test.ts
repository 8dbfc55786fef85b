import { describe, expect, it } from 'vitest';

import type { McxClient } from '@mcx/client';

import { seedDemoChild } from './demo-child.js';

/** A client that records what the demo would publish, and answers every write as accepted. */
function recorder(sent: unknown[]): McxClient {
  const ok = new Proxy({}, { get: () => ({ errors: [] }) });
  return { request: async (_doc: unknown, variables: unknown) => (sent.push(variables), ok) } as unknown as McxClient;
}

/** Every string in `value` except those under an `identity` key (which only the linkage service's blinding sees). */
function stringsOutsideIdentity(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOutsideIdentity(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) if (k !== 'identity') stringsOutsideIdentity(v, out);
  return out;
}

describe('the demo data', () => {
  it('names nobody outside an identity: no forename or surname in a subject or owner reference', async () => {
    const sent: unknown[] = [];
    await seedDemoChild({ WMP: recorder(sent), GMP: recorder(sent), MPS: recorder(sent) }, new Date('2026-11-20T10:00:00Z'));
    const names = new Set<string>();
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'identity' && x && typeof x === 'object')
            for (const f of ['forename', 'surname'] as const) names.add(String((x as Record<string, unknown>)[f]).toUpperCase());
          else collect(x);
        }
      }
    };
    collect(sent);
    expect(names.size).toBeGreaterThanOrEqual(4);
    const refs = sent.flatMap((v) => stringsOutsideIdentity(v));
    expect(refs.length).toBeGreaterThan(50);
    for (const s of refs) for (const name of names) expect(s.toUpperCase(), s).not.toContain(name);
  });
});
