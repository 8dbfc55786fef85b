import { describe, expect, it } from 'vitest';

import { classifyMatch, matchKeys, type ComparableKey } from './match.js';

const k = (kind: ComparableKey['kind'], strength: ComparableKey['strength'], key: string, variant?: 'dob_swapped'): ComparableKey => ({
  kind,
  strength,
  key,
  variant,
});

describe('classifyMatch', () => {
  it('is strong when any strong key matched, strong kinds listed first', () => {
    expect(
      classifyMatch({
        matched: [
          { kind: 'surname_dob_sex', strength: 'fuzzy' },
          { kind: 'nhs', strength: 'strong' },
        ],
        queryKinds: ['nhs', 'surname_dob_sex'],
        recordKinds: ['nhs', 'surname_dob_sex'],
      }),
    ).toEqual({ strength: 'strong', kinds: ['nhs', 'surname_dob_sex'], conflicts: [], variants: [] });
  });

  it('is possible with only fuzzy keys, and none with nothing', () => {
    expect(classifyMatch({ matched: [{ kind: 'phone', strength: 'fuzzy' }], queryKinds: [], recordKinds: [] }).strength).toBe('possible');
    expect(classifyMatch({ matched: [], queryKinds: ['nhs'], recordKinds: ['nhs'] })).toEqual({
      strength: 'none',
      kinds: [],
      conflicts: [],
      variants: [],
    });
  });

  it('flags identifiers both sides hold that did not match, without downgrading', () => {
    const r = classifyMatch({
      matched: [{ kind: 'name_dob', strength: 'strong' }],
      queryKinds: ['nhs', 'pnc', 'name_dob'],
      recordKinds: ['nhs', 'name_dob', 'chi'],
    });
    expect(r).toMatchObject({ strength: 'strong', conflicts: ['nhs'] });
  });
});

describe('matchKeys', () => {
  it('downgrades a strong kind matched through a query variant', () => {
    const record = [k('name_dob', 'strong', 'x')];
    const query = [k('name_dob', 'strong', 'y'), k('name_dob', 'fuzzy', 'x', 'dob_swapped')];
    expect(matchKeys(query, record)).toEqual({
      strength: 'possible',
      kinds: ['name_dob'],
      conflicts: [],
      variants: ['dob_swapped'],
    });
  });

  it('never chains: A~B and B~C does not make A~C', () => {
    const a = [k('nhs', 'strong', 'n1')];
    const b = [k('nhs', 'strong', 'n1'), k('name_dob', 'strong', 'nd')];
    const c = [k('name_dob', 'strong', 'nd')];
    expect(matchKeys(a, b).strength).toBe('strong');
    expect(matchKeys(b, c).strength).toBe('strong');
    expect(matchKeys(a, c).strength).toBe('none');
  });
});
