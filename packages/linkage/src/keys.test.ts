import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import { buildKeyInputs, swappedDob, type KeyInput } from './keys.js';
import { NORMALISATION_VERSION } from './normalise.js';

const V = NORMALISATION_VERSION;
const child = { forename: 'Ollie', surname: "O'Brien", dob: '2010-03-07', sex: 'M' as const };
const summary = (keys: KeyInput[]) => keys.map((k) => `${k.strength}${k.variant ? `/${k.variant}` : ''} ${k.input}`);

describe('buildKeyInputs', () => {
  it('builds domain-separated record keys', () => {
    expect(summary(buildKeyInputs({ ...child, nhsNumber: '999 000 0026', pncId: '09/100001H' }, { role: 'record' }))).toEqual([
      `strong ${V}|nhs|9990000026`,
      `strong ${V}|pnc|09/0100001H`,
      `strong ${V}|name_dob|ollie|obrien|2010-03-07`,
      `fuzzy ${V}|phonetic_name_dob|AL|APRN|2010-03-07`,
      `fuzzy ${V}|surname_dob_sex|obrien|2010-03-07|M`,
      `fuzzy ${V}|forename_dob_sex|oliver|2010-03-07|M`,
      `fuzzy ${V}|name_only|obrien|ollie`,
      `fuzzy ${V}|name_only|obrien|oliver`,
    ]);
  });

  it('adds swapped-dob variants to a query, as fuzzy, and drops name-only when it has a dob', () => {
    const q = buildKeyInputs(child, { role: 'query' });
    expect(q.filter((k) => k.kind === 'name_only')).toEqual([]);
    const swapped = q.filter((k) => k.variant === 'dob_swapped');
    expect(swapped.map((k) => k.kind)).toEqual(['name_dob', 'phonetic_name_dob', 'surname_dob_sex', 'forename_dob_sex']);
    expect(swapped.every((k) => k.strength === 'fuzzy' && k.input.includes('2010-07-03'))).toBe(true);
    expect(buildKeyInputs(child, { role: 'query', dobVariants: false }).some((k) => k.variant)).toBe(false);
    expect(buildKeyInputs(child, { role: 'query', includeNameOnly: true }).some((k) => k.kind === 'name_only')).toBe(true);
  });

  it('gives a query with no dob only the name-only key', () => {
    const q = buildKeyInputs({ forename: 'Ava', surname: 'King', sex: 'F' }, { role: 'query' });
    expect(summary(q)).toEqual([`fuzzy ${V}|name_only|ava|king`]);
  });

  it('keys both readings of an ambiguous nickname when sex is unknown', () => {
    const r = buildKeyInputs({ ...child, sex: 'U' }, { role: 'record' });
    expect(r.filter((k) => k.kind === 'name_only').map((k) => k.input)).toEqual([
      `${V}|name_only|obrien|ollie`,
      `${V}|name_only|obrien|oliver`,
      `${V}|name_only|obrien|olivia`,
    ]);
    // A record with unknown sex has no sex-keyed keys; a query tries F and M.
    expect(r.some((k) => k.kind === 'surname_dob_sex')).toBe(false);
    const q = buildKeyInputs({ ...child, sex: 'U' }, { role: 'query', dobVariants: false });
    expect(q.filter((k) => k.kind === 'surname_dob_sex').map((k) => [k.variant, k.input.slice(-1)])).toEqual([
      ['sex_expanded', 'F'],
      ['sex_expanded', 'M'],
    ]);
  });

  it('adds phone and vehicle keys for associates, as fuzzy', () => {
    const keys = buildKeyInputs({ phone: '07700 900123', vehicleReg: 'ab12 cde' }, { role: 'record' });
    expect(summary(keys)).toEqual([`fuzzy ${V}|phone|+447700900123`, `fuzzy ${V}|vreg|AB12CDE`]);
  });

  it('throws a coded error for an identifier it cannot format, without the value', () => {
    try {
      buildKeyInputs({ pncId: 'not-a-pnc' }, { role: 'record' });
      expect.unreachable();
    } catch (e) {
      expect((e as McxError).code).toBe('PNC_ID_INVALID');
      expect((e as McxError).message).not.toContain('not-a-pnc');
    }
  });

  it('is deterministic and order-sensitive for name_dob', () => {
    const a = buildKeyInputs(child, { role: 'record' });
    expect(buildKeyInputs(child, { role: 'record' })).toEqual(a);
    const swapped = buildKeyInputs({ ...child, forename: child.surname, surname: child.forename }, { role: 'record' });
    const names = (ks: KeyInput[]) => ks.filter((k) => k.kind === 'name_dob').map((k) => k.input);
    expect(names(swapped)).not.toEqual(names(a));
  });
});

describe('swappedDob', () => {
  it('swaps only when day and month are both 12 or less and differ', () => {
    expect(swappedDob('2010-03-10')).toBe('2010-10-03');
    expect(swappedDob('2010-03-13')).toBeNull();
    expect(swappedDob('2010-05-05')).toBeNull();
  });
});
