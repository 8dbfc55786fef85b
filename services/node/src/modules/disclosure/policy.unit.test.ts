import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { postcodeDistrict } from './disclose.js';
import {
  admissionRefusal,
  associateDetailsRefusal,
  DEFAULT_DISCLOSURE_POLICY,
  loadDisclosurePolicy,
  withholdingRule,
  type Requester,
} from './policy.js';

const dir = mkdtempSync(join(tmpdir(), 'mcx-policy-'));
const file = (name: string, body: string) => {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
};
const police: Requester = { force: 'GMP', orgKind: 'police', roles: ['investigator'], purpose: 'MISSING_LIVE_SEARCH' };
const grading = (intelligence: 'A' | 'E', handling: 'P' | 'C', conditions: ('POLICE_ONLY' | 'CONFIRM_WITH_OWNER')[] = []) => ({
  scheme: '3x5x2' as const,
  source: '1' as const,
  intelligence,
  handling,
  conditions,
});

describe('the disclosure policy file', () => {
  it('defaults when no file is configured', () => {
    expect(loadDisclosurePolicy(null)).toBe(DEFAULT_DISCLOSURE_POLICY);
  });

  it('loads a force policy, and an organisation kind left out reads nothing', () => {
    const policy = loadDisclosurePolicy(
      file(
        'strict.json',
        JSON.stringify({ ...DEFAULT_DISCLOSURE_POLICY, version: 'wmp-2', readers: { police: DEFAULT_DISCLOSURE_POLICY.readers.police } }),
      ),
    );
    expect(policy.version).toBe('wmp-2');
    expect(admissionRefusal(policy, { ...police, orgKind: 'local_authority' })).toBe('ROLE_NOT_PERMITTED');
    expect(admissionRefusal(policy, police)).toBeNull();
  });

  it('refuses unknown codes and unknown keys, naming where', () => {
    const bad = { ...DEFAULT_DISCLOSURE_POLICY, conditions: { POLICE_ONLY: ['police', 'sheriff'], STATUTORY_PARTNERS_ONLY: [] } };
    expect(() => loadDisclosurePolicy(file('bad.json', JSON.stringify(bad)))).toThrow(/conditions\.POLICE_ONLY\.1/);
    expect(() => loadDisclosurePolicy(file('extra.json', JSON.stringify({ ...DEFAULT_DISCLOSURE_POLICY, gradeE: 'share' })))).toThrow(
      /DISCLOSURE_POLICY_INVALID|invalid/,
    );
    expect(() => loadDisclosurePolicy(file('notjson.json', '{'))).toThrow(/cannot be read as JSON/);
  });
});

describe('the record-level rules', () => {
  it('grade E stays with its owner whatever the policy says', () => {
    const record = { kind: 'episode' as const, owner: 'WMP', grading: grading('E', 'P') };
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, police, record)).toBe('GRADE_E');
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, { ...police, force: 'WMP' }, record)).toBeNull();
  });

  it('POLICE_ONLY admits police and nobody else; an ungraded record is handling P', () => {
    const record = { kind: 'episode' as const, owner: 'WMP', grading: grading('A', 'C', ['POLICE_ONLY']) };
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, police, record)).toBeNull();
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, { ...police, orgKind: 'local_authority' }, record)).toBe('CONDITION_POLICE_ONLY');
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, { ...police, orgKind: 'local_authority' }, { ...record, grading: null })).toBeNull();
  });

  it('a provider reads episodes only', () => {
    const provider: Requester = { ...police, orgKind: 'provider', purpose: 'MISSING_RETURN_INTERVIEW' };
    expect(
      withholdingRule(DEFAULT_DISCLOSURE_POLICY, provider, { kind: 'location_of_concern', owner: 'WMP', grading: grading('A', 'P') }),
    ).toBe('KIND_NOT_PERMITTED');
    expect(withholdingRule(DEFAULT_DISCLOSURE_POLICY, provider, { kind: 'episode', owner: 'WMP', grading: null })).toBeNull();
  });

  it('an associate name: police, handling P, never E, never ungraded', () => {
    expect(associateDetailsRefusal(DEFAULT_DISCLOSURE_POLICY, police, grading('A', 'P'))).toBeNull();
    expect(associateDetailsRefusal(DEFAULT_DISCLOSURE_POLICY, police, grading('E', 'P'))).toBe('DETAILS_GRADE_E');
    expect(associateDetailsRefusal(DEFAULT_DISCLOSURE_POLICY, police, grading('A', 'C', ['CONFIRM_WITH_OWNER']))).toBe(
      'DETAILS_HANDLING_NOT_PERMITTED',
    );
    expect(associateDetailsRefusal(DEFAULT_DISCLOSURE_POLICY, police, null)).toBe('DETAILS_UNGRADED');
    expect(associateDetailsRefusal(DEFAULT_DISCLOSURE_POLICY, { ...police, orgKind: 'local_authority' }, grading('A', 'P'))).toBe(
      'DETAILS_ORG_KIND_NOT_PERMITTED',
    );
  });
});

describe('postcode districts', () => {
  it.each([
    ['B15 2TT', 'B15'],
    ['M1 1AE', 'M1'],
    ['SW1A 1AA', 'SW1A'],
    ['ec1a1bb', 'EC1A'],
  ])('%s is in %s', (postcode, district) => {
    expect(postcodeDistrict(postcode)).toBe(district);
  });
});

describe('deploy/disclosure-policy.json', () => {
  it('is the defaults, so a force starts from what the node does without a file', () => {
    const shipped = loadDisclosurePolicy(new URL('../../../../../deploy/disclosure-policy.json', import.meta.url).pathname);
    expect(shipped).toEqual(DEFAULT_DISCLOSURE_POLICY);
  });
});
