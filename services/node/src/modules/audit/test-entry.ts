import type { AuditEntryInput } from '@mcx/audit';

/** For this folder's tests: a consultation by investigator n of WMP, naming one record. */
export const testEntry = (n: number): AuditEntryInput =>
  ({
    at: '2026-11-30T12:00:00.000Z',
    action: 'consultation',
    actor: { subject: `investigator-${n}`, force: 'WMP', orgKind: 'police', roles: ['investigator'] },
    requestingNode: null,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: 'WMP-26-1',
    query: { operation: 'test', recordIds: [], linkageDigest: null },
    recordIds: [`WMP/r-${n}`],
    outcome: 'success',
    reason: null,
    peerEntryId: null,
  }) as AuditEntryInput;
