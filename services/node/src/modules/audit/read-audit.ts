/**
 * The audit entries of reads and disclosures. Each resolves only once its entry has committed:
 * nothing is released without its entry (AUDIT_UNAVAILABLE otherwise).
 */
import { McxError } from '@mcx/errors';

import type { AuthorisedRead } from '../../auth/access.js';
import { AuditUnavailableError, NodeErrorCode } from '../../errors.js';
import type { AuditService } from './audit-service.js';

/** Who read, and why: what a consultation's entry records of its reader. */
export type ReadAuditor = Pick<AuthorisedRead, 'viewer' | 'requestingNode'> & {
  purpose: string | null;
  caseRef: string | null;
  linkageDigest?: string;
};

/** Runs an audit write; if it cannot commit, nothing may be released: AUDIT_UNAVAILABLE. */
export async function committed<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new AuditUnavailableError(err instanceof McxError ? err.code : NodeErrorCode.AUDIT_UNAVAILABLE);
  }
}

/** Audits a read (a consultation): the records asked for and the records released. */
export async function auditConsultation(
  audit: AuditService,
  read: ReadAuditor,
  operation: string,
  queryIds: string[],
  recordIds: string[],
  reason: string | null = null,
): Promise<void> {
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
}

/** Audits an explicit disclosure (an associate's name) with its outcome. */
export async function auditDisclosure(
  audit: AuditService,
  read: Pick<AuthorisedRead, 'viewer' | 'requestingNode' | 'purpose' | 'caseRef'>,
  operation: string,
  recordKey: string,
  outcome: 'success' | 'refused' | 'error',
  reason: string,
): Promise<void> {
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
}
