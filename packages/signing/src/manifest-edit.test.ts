import { describe, expect, it } from 'vitest';

import { baseManifest, KEYS, member, NOW } from './fixtures/test-federation.js';
import { thrownCode } from './fixtures/test-helpers.js';
import { addKey, addMember, initManifest, renewManifest, setKeyStatus } from './manifest-edit.js';
import { signManifest } from './manifest-signature.js';
import { manifestProblems, manifestPublicationProblems, shownEndpoint } from './manifest.js';

describe('manifest editing', () => {
  it('starts at version 1 with the validity and grace asked for', () => {
    expect(initManifest({ operatorKid: KEYS.operator.kid, validDays: 30, graceDays: 7, now: NOW })).toEqual({
      version: 1,
      issuedAt: '2025-03-01T12:00:00.000Z',
      validFrom: '2025-03-01T12:00:00.000Z',
      validUntil: '2025-03-31T12:00:00.000Z',
      graceSeconds: 604_800,
      operator: { kid: KEYS.operator.kid },
      members: [],
    });
  });

  it('bumps the version on every change and leaves the input alone', () => {
    const before = baseManifest();
    expect(before.version).toBe(7);
    const snapshot = structuredClone(before);
    const after = setKeyStatus(before, KEYS.gmpRecord.kid, 'verify-only');
    expect(after.version).toBe(8);
    expect(before).toEqual(snapshot);
    expect(renewManifest(after, { validDays: 60, now: new Date('2025-03-20T00:00:00Z') })).toMatchObject({
      version: 9,
      validFrom: '2025-03-20T00:00:00.000Z',
      validUntil: '2025-05-19T00:00:00.000Z',
    });
  });

  it('rotates: a new key is active and the previous active key of that job becomes verify-only', () => {
    const rotated = addKey(baseManifest(), 'WMP', KEYS.wmpRecord2);
    const wmp = rotated.members.find((m) => m.code === 'WMP');
    expect(wmp?.keys.map((k) => [k.job, k.status])).toEqual([
      ['record', 'verify-only'],
      ['peer-token', 'active'],
      ['audit-checkpoint', 'active'],
      ['record', 'active'],
    ]);
    expect(wmp?.keys[3]).toEqual({ kid: KEYS.wmpRecord2.kid, job: 'record', jwk: KEYS.wmpRecord2.jwk, status: 'active' });
  });

  it('refuses duplicates, unknown members and keys, un-revoking, and bad members', () => {
    const m = baseManifest();
    expect(thrownCode(() => addMember(m, member('WMP', 'Again')))).toBe('MEMBER_EXISTS');
    expect(thrownCode(() => addKey(m, 'XYZ', KEYS.stranger))).toBe('MEMBER_NOT_FOUND');
    expect(thrownCode(() => addKey(m, 'GMP', KEYS.wmpRecord1))).toBe('KEY_EXISTS');
    expect(thrownCode(() => addKey(m, 'GMP', KEYS.operator as never))).toBe('MANIFEST_MALFORMED');
    expect(thrownCode(() => setKeyStatus(m, KEYS.stranger.kid, 'revoked'))).toBe('KEY_NOT_FOUND');
    const revoked = setKeyStatus(m, KEYS.gmpRecord.kid, 'revoked');
    expect(thrownCode(() => setKeyStatus(revoked, KEYS.gmpRecord.kid, 'active'))).toBe('KEY_REVOKED');
    expect(thrownCode(() => addMember(m, { ...member('LCC', 'Leeds City Council'), endpoint: 'ftp://x' }))).toBe('MANIFEST_MALFORMED');
    // A published endpoint never carries a secret: every member reads it, and operators see it.
    const withSecret = { ...member('LCC', 'Leeds City Council'), endpoint: 'https://mcx:hunter2@mcx.leeds.test' };
    expect(thrownCode(() => addMember(m, withSecret))).toBe('MANIFEST_MALFORMED');
    expect(() => addMember(m, withSecret)).toThrow(/members\[2\]\.endpoint carries a user name or password/);
    expect(thrownCode(() => signManifest({ ...m, members: [...m.members, withSecret] }, KEYS.operator))).toBe('MANIFEST_MALFORMED');
    // One already signed still verifies: an upgrade does not cut the federation off; the next edit refuses it.
    expect(manifestProblems({ ...m, members: [...m.members, withSecret] })).toEqual([]);
    expect(manifestPublicationProblems({ ...m, members: [...m.members, withSecret] })).toEqual([
      'members[2].endpoint carries a user name or password',
    ]);
    // Shown (doctor, the status page) without the secret; an endpoint without one is shown as it is.
    expect(shownEndpoint(withSecret.endpoint)).toBe('https://mcx.leeds.test/');
    expect(shownEndpoint('https://mcx@mcx.leeds.test:8443/base')).toBe('https://mcx.leeds.test:8443/base');
    expect(shownEndpoint('http://127.0.0.1:4001')).toBe('http://127.0.0.1:4001');
  });

  it('lists every shape problem', () => {
    const m = baseManifest();
    const wmp = m.members[0];
    if (wmp === undefined) throw new Error('fixture');
    const twin = { ...wmp, keys: [{ ...wmp.keys[0]!, kid: 'not-the-thumbprint' }], contact24x7: 'call Dave', kind: 'army' };
    expect(manifestProblems({ ...m, members: [twin] })).toEqual([
      'members[0].kind is invalid',
      'members[0].contact24x7 is not a phone number',
      'members[0].keys[0].kid is not the RFC 7638 thumbprint of its jwk',
    ]);
    expect(manifestProblems({ ...m, members: [wmp, wmp] })).toContain('member code WMP is listed twice');
    expect(manifestProblems({ ...m, validFrom: m.validUntil })).toEqual(['validFrom must be before validUntil']);
    expect(manifestProblems(null)).toEqual(['manifest is not an object']);
  });
});
