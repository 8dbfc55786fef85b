import { describe, expect, it } from 'vitest';

import { DEFAULT_CASE_REF_RULES, parseRequestPurpose, purposeFromRequest } from './purpose.js';

const ok = { purpose: 'MISSING_LIVE_SEARCH', caseRef: 'WMP-25-000123' };

describe('parseRequestPurpose', () => {
  it('returns a valid purpose and case reference', () => {
    expect(parseRequestPurpose(ok)).toEqual(ok);
  });

  it.each([
    ['missing purpose', { caseRef: ok.caseRef }, 'PURPOSE_MISSING'],
    ['empty purpose', { purpose: '', caseRef: ok.caseRef }, 'PURPOSE_MISSING'],
    ['unknown purpose', { purpose: 'CURIOSITY', caseRef: ok.caseRef }, 'PURPOSE_UNKNOWN'],
    ['lower-case purpose', { purpose: 'missing_live_search', caseRef: ok.caseRef }, 'PURPOSE_UNKNOWN'],
    ['missing case ref', { purpose: ok.purpose }, 'CASE_REF_MISSING'],
    ['name-like case ref', { purpose: ok.purpose, caseRef: 'Olivia Hart' }, 'CASE_REF_MALFORMED'],
    ['name before a valid ref', { purpose: ok.purpose, caseRef: 'Olivia WMP-25-1' }, 'CASE_REF_MALFORMED'],
    ['lower-case ref', { purpose: ok.purpose, caseRef: 'wmp-25-000123' }, 'CASE_REF_MALFORMED'],
    ['non-string ref', { purpose: ok.purpose, caseRef: 123 }, 'CASE_REF_MALFORMED'],
    ['too long', { purpose: ok.purpose, caseRef: `WMP-25-${'1'.repeat(40)}` }, 'CASE_REF_TOO_LONG'],
  ])('refuses %s', (_label, input, code) => {
    expect(() => parseRequestPurpose(input)).toThrow(expect.objectContaining({ code }));
  });

  it('applies a per-force format', () => {
    const rules = { caseRefPattern: /^\d{2}\/\d{6}\/\d{2}$/, caseRefMaxLength: 12 };
    expect(parseRequestPurpose({ purpose: 'MISSING_REVIEW', caseRef: '20/123456/25' }, rules).caseRef).toBe('20/123456/25');
    expect(() => parseRequestPurpose(ok, rules)).toThrow(expect.objectContaining({ code: 'CASE_REF_TOO_LONG' }));
    expect(() => parseRequestPurpose({ ...ok, caseRef: 'WMP-25-12' }, rules)).toThrow(
      expect.objectContaining({ code: 'CASE_REF_MALFORMED' }),
    );
  });

  it('refuses spaces and non-ASCII even where a force pattern allows them (the audit entry holds the reference)', () => {
    const loose = { caseRefPattern: /^.+$/, caseRefMaxLength: 32 };
    expect(parseRequestPurpose({ ...ok, caseRef: 'WMP/25/1' }, loose).caseRef).toBe('WMP/25/1');
    for (const caseRef of ['WMP 25 1', 'WMP-25-\u00e91'])
      expect(() => parseRequestPurpose({ ...ok, caseRef }, loose)).toThrow(expect.objectContaining({ code: 'CASE_REF_MALFORMED' }));
  });

  it('refuses an unanchored pattern and neutralises a global flag', () => {
    const unanchored = { ...DEFAULT_CASE_REF_RULES, caseRefPattern: /[A-Z]+-\d+/ };
    expect(() => parseRequestPurpose(ok, unanchored)).toThrow(expect.objectContaining({ code: 'AUTH_CONFIG_INVALID' }));
    const global = { ...DEFAULT_CASE_REF_RULES, caseRefPattern: /^[A-Z]{2,4}-\d{2,4}-\d{1,10}$/g };
    expect(parseRequestPurpose(ok, global)).toEqual(ok);
    expect(parseRequestPurpose(ok, global)).toEqual(ok);
  });
});

describe('purposeFromRequest', () => {
  const headers = { 'x-mcx-purpose': ok.purpose, 'x-mcx-case-ref': ok.caseRef };
  const claims = { mcx_purpose: ok.purpose, mcx_case_ref: ok.caseRef };

  it.each([
    ['headers only (Node)', headers, undefined],
    ['headers only (fetch Headers)', new Headers(headers), {}],
    ['claims only', {}, claims],
    ['both, agreeing', headers, claims],
    ['purpose in a header, case ref in the token', { 'x-mcx-purpose': ok.purpose }, { mcx_case_ref: ok.caseRef }],
  ])('reads %s', (_label, h, c) => {
    expect(purposeFromRequest(h, c)).toEqual(ok);
  });

  it.each([
    ['purposes differ', headers, { ...claims, mcx_purpose: 'MISSING_REVIEW' }, 'PURPOSE_CONFLICT'],
    ['case refs differ', headers, { ...claims, mcx_case_ref: 'WMP-25-999' }, 'PURPOSE_CONFLICT'],
    ['neither', {}, {}, 'PURPOSE_MISSING'],
    ['repeated header', { ...headers, 'x-mcx-case-ref': [ok.caseRef, 'WMP-25-1'] }, undefined, 'CASE_REF_MALFORMED'],
    ['a name in the header', { ...headers, 'x-mcx-case-ref': 'Olivia Hart' }, undefined, 'CASE_REF_MALFORMED'],
  ])('refuses when %s', (_label, h, c, code) => {
    expect(() => purposeFromRequest(h, c)).toThrow(expect.objectContaining({ code }));
  });
});
