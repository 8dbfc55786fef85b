import type { IncomingHttpHeaders } from 'node:http';

import type { AuditAction } from '@mcx/audit';
import type { CaseRefRules, Viewer } from '@mcx/auth';
import type { Logger } from '@mcx/logger';

import { RequestAccess, type AuthorisedRead, type Principal, type RefusalSink } from './auth/access.js';
import { auditConsultation, auditDisclosure, type ReadAuditor } from './modules/audit/read-audit.js';
import type { InTx } from './modules/records/record-store.js';
import type { Services } from './services.js';

export type { Services } from './services.js';

/** What every resolver receives. Built once per request by createContext. */
export interface Context {
  requestId: string;
  logger: Logger;
  forceCode: string;
  /** The guards: every resolver calls one before it touches a record. */
  access: RequestAccess;
  services: Services;
  /**
   * Audits a read (a consultation) and resolves only once its entry has committed: no read
   * is released without its entry. Throws AUDIT_UNAVAILABLE if the entry cannot be written.
   */
  auditRead(read: ReadAuditor, operation: string, queryIds: string[], recordIds: string[], reason?: string | null): Promise<void>;
  /**
   * Audits an explicit disclosure (an associate's name) with its outcome. A successful one
   * resolves only once its entry has committed; throws AUDIT_UNAVAILABLE otherwise.
   */
  auditDisclosure(
    read: Pick<AuthorisedRead, 'viewer' | 'requestingNode' | 'purpose' | 'caseRef'>,
    operation: string,
    recordKey: string,
    outcome: 'success' | 'refused' | 'error',
    reason: string,
  ): Promise<void>;
  /** The force's case reference format (for the fishing alerts). */
  caseRefPattern: RegExp;
  /**
   * Set when a member node calls through the peer protocol: the caller's audit entry it answers,
   * its token's jti, and this node's disclosure entry once written (for the signed receipt).
   */
  /** A peer's request: the caller's entry and token, this node's disclosure entry, and whether the answer was cut at a cap. */
  peerCall: { callerEntry: string; jti: string; entry: { id: string; hash: string } | null; truncated?: boolean } | null;
  /** The hook that writes a write's audit entry inside the write's own transaction. */
  auditWrite(viewer: Viewer, action: AuditAction, operation: string): InTx;
}

// services/node/src/federation/ still imports it from here.
export { committed } from './modules/audit/read-audit.js';

/** Builds the per-request context from the already-verified principal. */
export function createContext(input: {
  requestId: string;
  logger: Logger;
  forceCode: string;
  services: Services;
  principal: Principal | null;
  headers: IncomingHttpHeaders;
  caseRefRules: CaseRefRules;
  sink: Omit<RefusalSink, 'audit'>;
  peerCall?: { callerEntry: string; jti: string } | null;
}): Context {
  const policy = input.services.disclosure.policy;
  const { audit } = input.services;
  return {
    requestId: input.requestId,
    logger: input.logger,
    forceCode: input.forceCode,
    access: new RequestAccess(input.principal, input.headers, input.forceCode, input.caseRefRules, { ...input.sink, audit }, policy),
    services: input.services,
    caseRefPattern: input.caseRefRules.caseRefPattern,
    peerCall: input.peerCall ? { ...input.peerCall, entry: null } : null,
    auditRead: (read, operation, queryIds, recordIds, reason = null) =>
      auditConsultation(audit, read, operation, queryIds, recordIds, reason),
    auditDisclosure: (read, operation, recordKey, outcome, reason) => auditDisclosure(audit, read, operation, recordKey, outcome, reason),
    auditWrite(viewer, action, operation) {
      return (tx, stored) => audit.recordInTx(tx, { action, viewer, operation, queryIds: stored, recordIds: stored, outcome: 'success' });
    },
  };
}
