import { describe, expect, it } from 'vitest';

import { canonicalNhsNumber, validateIdentity } from './identity.js';
import { buildKeyInputs, type KeyInput } from './keys.js';
import { matchKeys } from './match.js';
import { createSeededRng, perturbChild, syntheticChildren, type Perturbation } from './synthetic.js';

const plain = (keys: KeyInput[]) => keys.map((k) => ({ kind: k.kind, strength: k.strength, key: k.input, variant: k.variant }));

describe('syntheticChildren', () => {
  const kids = syntheticChildren(2000, { seed: 42, referenceDate: '2025-06-01', nhsShare: 0.3 });

  it('is deterministic for a seed', () => {
    expect(syntheticChildren(5, { seed: 42, nhsShare: 0.3, referenceDate: '2025-06-01' })).toEqual(kids.slice(0, 5));
    expect(syntheticChildren(5, { seed: 43 })).not.toEqual(kids.slice(0, 5));
  });

  it('gives valid identities aged 10-17, skewed to 13-16', () => {
    const ages = kids.map((k) => 2025 - Number(k.dob?.slice(0, 4)) - (k.dob && k.dob.slice(5) > '06-01' ? 1 : 0));
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...ages)).toBeLessThanOrEqual(17);
    expect(ages.filter((a) => a >= 13 && a <= 16).length / ages.length).toBeGreaterThan(0.6);
    for (const k of kids) expect(validateIdentity(k, { now: new Date('2025-06-01') }).ok).toBe(true);
    const nhs = kids.filter((k) => k.nhsNumber);
    expect(nhs.length / kids.length).toBeGreaterThan(0.25);
    expect(nhs.every((k) => k.nhsNumber?.startsWith('999') && canonicalNhsNumber(k.nhsNumber) === k.nhsNumber)).toBe(true);
    const girls = kids.filter((k) => k.sex === 'F').length / kids.length;
    expect(girls).toBeGreaterThan(0.45);
    expect(girls).toBeLessThan(0.6);
  });

  it('has a realistic spread of names (common ones repeat, many distinct)', () => {
    const surnames = new Map<string, number>();
    for (const k of kids) surnames.set(k.surname ?? '', (surnames.get(k.surname ?? '') ?? 0) + 1);
    expect(surnames.size).toBeGreaterThan(200);
    expect(Math.max(...surnames.values())).toBeGreaterThan(20);
  });
});

describe('linkage at scale on synthetic children (plain key inputs)', () => {
  it('finds perturbed copies and rarely links different children strongly', () => {
    const kids = syntheticChildren(3000, { seed: 7 });
    const rng = createSeededRng(99);
    const hows: Perturbation[] = ['case', 'nickname', 'typo', 'surname_change', 'dob_swap', 'name_swap', 'no_dob'];
    const records = kids.map((k) => plain(buildKeyInputs(k, { role: 'record' })));
    // Index record keys, as a node's key table would be.
    const index = new Map<string, number[]>();
    records.forEach((keys, i) => keys.forEach((k) => index.set(k.key, [...(index.get(k.key) ?? []), i])));

    let found = 0;
    let strongOthers = 0;
    let possibleOthers = 0;
    for (const [i, kid] of kids.entries()) {
      const query = plain(buildKeyInputs(perturbChild(kid, rng.pick(hows), rng), { role: 'query' }));
      const candidates = new Set(query.flatMap((k) => index.get(k.key) ?? []));
      for (const j of candidates) {
        const r = matchKeys(query, records[j] ?? []);
        if (j === i && r.strength !== 'none') found++;
        if (j !== i && r.strength === 'strong') strongOthers++;
        if (j !== i && r.strength === 'possible') possibleOthers++;
      }
    }
    console.info(
      `synthetic: ${kids.length} children, recall ${(found / kids.length).toFixed(3)}, ` +
        `strong links to other children ${strongOthers}, possible links to others ${possibleOthers} ` +
        `(${(possibleOthers / kids.length).toFixed(2)} per query)`,
    );
    expect(found / kids.length).toBeGreaterThan(0.97);
    expect(strongOthers / kids.length).toBeLessThan(0.01);
  });
});
