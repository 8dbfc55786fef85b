import { describe, expect, it } from 'vitest';

import { auditEntryProblems, parseAuditEntry, type AuditEntryInput } from './entry.js';
import { fixtureEntry } from './fixtures/audit-log.js';
import { thrownCode, thrownError } from './fixtures/thrown-code.js';

const NAME = 'Olivia Hart';

describe('audit entry model', () => {
  it('accepts a valid entry and returns a copy with exactly the known fields, peerEntryId null by default', () => {
    const input = fixtureEntry(1);
    const entry = parseAuditEntry(input);
    expect(entry).toEqual({ ...input, peerEntryId: null });
    input.recordIds.push('rec-later');
    input.actor.roles.push('auditor');
    expect(entry.recordIds).toEqual(['rec-1', 'rec-101']);
    expect(entry.actor.roles).toEqual(['investigator']);
    expect(parseAuditEntry({ ...input, peerEntryId: 'GMP:77' }).peerEntryId).toBe('GMP:77');
  });

  it("keeps the actor's issuer when given, and an entry without one hashes as it always did", () => {
    const issuer = 'https://login.microsoftonline.com/0000-tenant/v2.0';
    const input = fixtureEntry(1);
    const entry = parseAuditEntry({ ...input, actor: { ...input.actor, issuer } });
    expect(entry.actor).toEqual({ ...input.actor, issuer });
    expect('issuer' in parseAuditEntry(input).actor).toBe(false);
    expect(auditEntryProblems({ ...input, actor: { ...input.actor, issuer: 'an issuer' } })).toEqual([
      { field: 'actor.issuer', code: 'BAD_FORMAT' },
    ]);
    expect(auditEntryProblems({ ...input, actor: { ...input.actor, issuer: null } })).toEqual([
      { field: 'actor.issuer', code: 'NOT_A_STRING' },
    ]);
  });

  it('accepts every nullable field as null, and authorisation failures', () => {
    const entry = fixtureEntry(2, {
      action: 'authorisation_failure',
      outcome: 'refused',
      reason: 'PURPOSE_MISSING',
      purpose: null,
      caseRef: null,
      requestingNode: null,
      query: { operation: 'federatedHistory', recordIds: [], linkageDigest: null },
      recordIds: [],
    });
    expect(auditEntryProblems(entry)).toEqual([]);
  });

  describe('names each bad field with a code', () => {
    const cases: Array<[Partial<Record<keyof AuditEntryInput, unknown>>, string, string]> = [
      [{ at: '2025-03-03T09:00:00Z' }, 'at', 'NOT_ISO_MS_UTC'],
      [{ at: '2025-03-03T10:00:00.000+01:00' }, 'at', 'NOT_ISO_MS_UTC'],
      [{ at: '2025-02-30T09:00:00.000Z' }, 'at', 'NOT_ISO_MS_UTC'],
      [{ action: 'read' }, 'action', 'UNKNOWN_ACTION'],
      [{ outcome: 'ok' }, 'outcome', 'UNKNOWN_OUTCOME'],
      [{ actor: null }, 'actor', 'NOT_AN_OBJECT'],
      [{ actor: { subject: '', force: 'WMP', orgKind: 'police', roles: [] } }, 'actor.subject', 'EMPTY'],
      [{ actor: { subject: 's', force: 'W M P', orgKind: 'police', roles: [] } }, 'actor.force', 'BAD_FORMAT'],
      [{ actor: { subject: 's', force: 'WMP', orgKind: 'police', roles: 'investigator' } }, 'actor.roles', 'NOT_AN_ARRAY'],
      [{ actor: { subject: 's', force: 'WMP', orgKind: 'police', roles: ['ok', 7] } }, 'actor.roles[1]', 'NOT_A_STRING'],
      [{ actor: { subject: 's', force: 'WMP', orgKind: 'police', roles: [], name: NAME } }, 'actor', 'UNKNOWN_FIELD'],
      [{ requestingNode: 3 }, 'requestingNode', 'NOT_A_STRING_OR_NULL'],
      [{ caseRef: NAME }, 'caseRef', 'BAD_FORMAT'],
      [{ caseRef: 'X'.repeat(65) }, 'caseRef', 'TOO_LONG'],
      [{ query: { operation: 'q', recordIds: [] } }, 'query.linkageDigest', 'NOT_A_STRING_OR_NULL'],
      [{ query: { operation: 'q', recordIds: [], linkageDigest: NAME } }, 'query.linkageDigest', 'BAD_FORMAT'],
      [{ recordIds: ['rec-1', 'rec 2'] }, 'recordIds[1]', 'BAD_FORMAT'],
      [{ recordIds: Array.from({ length: 10_001 }, (_, i) => `r${i}`) }, 'recordIds', 'TOO_MANY'],
      [{ reason: `refused for ${NAME}` }, 'reason', 'BAD_FORMAT'],
      [{ peerEntryId: '' }, 'peerEntryId', 'EMPTY'],
    ];
    it.each(cases)('%o: %s %s', (override, field, code) => {
      expect(auditEntryProblems({ ...fixtureEntry(1), ...override })).toEqual([{ field, code }]);
    });

    it('an unknown top-level field, and an entry that is not an object', () => {
      expect(auditEntryProblems({ ...fixtureEntry(1), name: NAME })).toEqual([{ field: '', code: 'UNKNOWN_FIELD' }]);
      expect(auditEntryProblems('entry')).toEqual([{ field: '', code: 'NOT_AN_OBJECT' }]);
    });
  });

  it('throws AUDIT_ENTRY_INVALID listing fields and codes, never the values', () => {
    const bad = { ...fixtureEntry(1), caseRef: NAME, reason: `about ${NAME}`, action: NAME, extra: NAME };
    expect(thrownCode(() => parseAuditEntry(bad))).toBe('AUDIT_ENTRY_INVALID');
    const { message } = thrownError(() => parseAuditEntry(bad));
    expect(message).toBe('audit entry is invalid: (entry) UNKNOWN_FIELD; action UNKNOWN_ACTION; caseRef BAD_FORMAT; reason BAD_FORMAT');
    expect(message).not.toMatch(/Olivia|Hart|extra/);
  });
});
