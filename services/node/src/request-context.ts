/** The per-request context every resolver receives, built from the process's services and an already-verified principal. */
import type { IncomingHttpHeaders } from 'node:http';

import type { CaseRefRules } from '@mcx/auth';
import type { Logger } from '@mcx/logger';

import { RequestAccess, type Principal, type RefusalSink } from './auth/access.js';
import type { Context, Services } from './context.js';
import { auditConsultation, auditDisclosure } from './modules/audit/read-audit.js';

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
  peerCall?: { callerEntry: string; jti: string; expiresAt?: number } | null;
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
