import { describe, expect, it } from 'vitest';

import { ErrorCode } from '@mcx/errors';

import { assertCanWrite, authorize, can, OPERATIONS, type Operation } from './policy.js';
import type { Role, TokenKind, Viewer } from './viewer.js';

function viewer(role: Role, tokenKind: TokenKind = 'user', force = 'WMP'): Viewer {
  return { subject: `${role}-1`, issuer: 'https://idp.example', force, orgKind: 'police', roles: [role], tokenKind };
}
const investigator = viewer('investigator');

// Expected decisions: [role, token kind, with a forwarded investigator?] -> allowed operations.
const MATRIX: [Role, TokenKind, boolean, Operation[]][] = [
  ['publisher', 'client', false, ['record.write']],
  // A person's token never publishes, whatever roles it carries.
  ['publisher', 'user', false, []],
  ['investigator', 'user', false, ['record.read']],
  ['investigator', 'client', false, []],
  ['auditor', 'user', false, ['audit.read']],
  ['operator', 'user', false, ['operator.admin']],
  ['router', 'client', false, []],
  ['router', 'client', true, ['subgraph.service', 'subgraph.entities']],
  ['investigator', 'user', true, ['record.read']],
];

describe('can: role x operation', () => {
  it.each(MATRIX)('%s with a %s token (forwarded user: %s) may do exactly %j', (role, kind, forwarded, allowed) => {
    const context = forwarded ? { forwardedUser: investigator } : {};
    for (const operation of OPERATIONS) {
      expect(can(viewer(role, kind), operation, context), operation).toBe(allowed.includes(operation));
    }
  });

  it('refuses a router whose forwarded user may not read records', () => {
    const router = viewer('router', 'client');
    for (const forwardedUser of [viewer('auditor'), viewer('investigator', 'client'), viewer('router', 'client')]) {
      expect(can(router, 'subgraph.entities', { forwardedUser })).toBe(false);
    }
  });

  it('adds up the permissions of several roles', () => {
    const both: Viewer = { ...investigator, roles: ['investigator', 'auditor'] };
    expect(can(both, 'record.read') && can(both, 'audit.read')).toBe(true);
  });
});

describe('authorize and assertCanWrite', () => {
  it('throws UNAUTHENTICATED without a viewer and FORBIDDEN when refused', () => {
    expect(() => authorize(null, 'record.read')).toThrow(expect.objectContaining({ code: ErrorCode.UNAUTHENTICATED }));
    expect(() => authorize(viewer('operator'), 'record.read')).toThrow(expect.objectContaining({ code: ErrorCode.FORBIDDEN }));
    expect(authorize(investigator, 'record.read')).toBe(investigator);
  });

  it("lets a publisher write only its own force's records", () => {
    const publisher = viewer('publisher', 'client', 'WMP');
    expect(assertCanWrite(publisher, 'WMP')).toBe(publisher);
    expect(() => assertCanWrite(publisher, 'MPS')).toThrow(expect.objectContaining({ code: ErrorCode.FORBIDDEN }));
    expect(() => assertCanWrite(investigator, 'WMP')).toThrow(expect.objectContaining({ code: ErrorCode.FORBIDDEN }));
    expect(() => assertCanWrite(undefined, 'WMP')).toThrow(expect.objectContaining({ code: ErrorCode.UNAUTHENTICATED }));
  });
});
