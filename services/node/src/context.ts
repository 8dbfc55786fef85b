import type { IncomingHttpHeaders } from 'node:http';

import { GraphQLError } from 'graphql';

import type { AuditAction } from '@mcx/audit';
import type { CaseRefRules, Viewer } from '@mcx/auth';
import { McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import { RequestAccess, type AuthorisedRead, type Principal, type RefusalSink } from './auth/access.js';
import type { FederationClient } from './federation/federated-read.js';
import type { AuditService } from './modules/audit/audit-service.js';
import type { AssociateDetailsSource } from './modules/disclosure/associate-details.js';
import type { Discloser } from './modules/disclosure/disclose.js';
import type { EpisodeService } from './modules/episode/episode-service.js';
import type { RecordService } from './modules/records/record-service.js';
import type { InTx } from './modules/records/record-store.js';
import type { SubjectService } from './modules/subject/subject-service.js';

/** Per-process services, built once in createApp and shared by every request. */
export interface Services {
  records: RecordService;
  episodes: EpisodeService;
  audit: AuditService;
  subjects: SubjectService;
  /** The owner's disclosure policy, the record signer and the members' contacts. */
  disclosure: Discloser;
  /** The calling end of the peer protocol; null when this node is not federated. */
  federation: FederationClient | null;
  /** The child's history rules: the clock, the repeat threshold, the distance for "near", police areas. */
  history: { now(): Date; repeat: { count: number; days: number }; nearMetres: number; policeAreaOf(code: string): string | null };
  /** Fetches an associate's name from the force's records system; null when not configured. */
  associateDetails: AssociateDetailsSource | null;
}

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
  auditRead(
    read: Pick<AuthorisedRead, 'viewer' | 'requestingNode'> & { purpose: string | null; caseRef: string | null; linkageDigest?: string },
    operation: string,
    queryIds: string[],
    recordIds: string[],
    reason?: string | null,
  ): Promise<void>;
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

/** Runs an audit write; if it cannot commit, nothing may be released: AUDIT_UNAVAILABLE. */
export async function committed<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const code = err instanceof McxError ? err.code : 'AUDIT_UNAVAILABLE';
    throw new GraphQLError('The read could not be audited, so nothing was released', {
      extensions: { code: 'AUDIT_UNAVAILABLE', reason: code },
    });
  }
}

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
    async auditRead(read, operation, queryIds, recordIds, reason = null) {
      await committed(() =>
        audit.record({
          action: 'consultation',
          viewer: read.viewer,
          requestingNode: read.requestingNode,
          purpose: read.purpose,
          caseRef: read.caseRef,
          linkageDigest: read.linkageDigest ?? null,
          operation,
          queryIds,
          recordIds,
          outcome: 'success',
          reason,
        }),
      );
    },
    async auditDisclosure(read, operation, recordKey, outcome, reason) {
      await committed(() =>
        audit.record({
          action: 'disclosure',
          viewer: read.viewer,
          requestingNode: read.requestingNode,
          purpose: read.purpose,
          caseRef: read.caseRef,
          linkageDigest: null,
          operation,
          queryIds: [recordKey],
          recordIds: outcome === 'success' ? [recordKey] : [],
          outcome,
          reason,
        }),
      );
    },
    auditWrite(viewer, action, operation) {
      return (tx, stored) => audit.recordInTx(tx, { action, viewer, operation, queryIds: stored, recordIds: stored, outcome: 'success' });
    },
  };
}
