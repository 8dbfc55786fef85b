import { gql } from 'graphql-tag';
import type { McxClient } from '@mcx/client';

// Auditor operations, written here (not in packages/client) because only auditors' tools use them.
export const AUDIT_ENTRIES = gql`
  query AuditEntries($filter: McxAuditFilter, $first: Int, $after: String) {
    auditEntries(filter: $filter, first: $first, after: $after) {
      entries { seq at action actor { subject force orgKind roles } requestingNode purpose caseRef operation queryRecordIds recordIds outcome reason hash prevHash }
      nextCursor
    }
  }
`;
export const AUDIT_INTEGRITY = gql`
  query { auditIntegrity { status entries verifiedThrough unverifiedAfter checkpointsChecked firstBadSeq firstBadReason } }
`;
export const AUDIT_EXPORT = gql`
  query { auditExport }
`;
export const AUDIT_CHECKPOINT = gql`
  mutation { auditCheckpoint { size headHash } }
`;
export const WHO_HAS_SEEN = gql`
  query Who($owner: String!, $id: ID!) { whoHasSeenRecord(owner: $owner, id: $id) { entries { seq action actor { subject } operation recordIds caseRef } } }
`;
export const AUDIT_ALERTS = gql`
  query Alerts($from: DateTime!, $to: DateTime!, $t: Int) { auditAlerts(from: $from, to: $to, perActorThreshold: $t) { kind actorSubject count } }
`;

export type AuditEntryView = {
  seq: number;
  at: string;
  action: string;
  actor: { subject: string; force: string; orgKind: string; roles: string[] };
  requestingNode: string | null;
  purpose: string | null;
  caseRef: string | null;
  operation: string;
  queryRecordIds: string[];
  recordIds: string[];
  outcome: string;
  reason: string | null;
};

/** Every audit entry, through the auditor API. */
export async function allEntries(auditor: McxClient, filter: Record<string, unknown> = {}): Promise<AuditEntryView[]> {
  const out: AuditEntryView[] = [];
  let after: string | null = null;
  for (;;) {
    const res = (await auditor.request(AUDIT_ENTRIES as never, { filter, first: 1000, after } as never)) as { auditEntries: { entries: AuditEntryView[]; nextCursor: string | null } };
    out.push(...res.auditEntries.entries);
    if (!res.auditEntries.nextCursor) return out;
    after = res.auditEntries.nextCursor;
  }
}
