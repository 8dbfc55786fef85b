import type { IncomingHttpHeaders } from 'node:http';

import type { AuditAction } from '@mcx/audit';
import type { CaseRefRules, Viewer } from '@mcx/auth';
import type { Logger } from '@mcx/logger';

import type { AuthorisedRead, RequestAccess } from './auth/access.js';
import type { FederatedReadService } from './federation/federated-read-service.js';
import type { FederationClient } from './federation/federation-client.js';
import type { FilterView } from './federation/member-selection.js';
import type { AlertService } from './modules/alerts/alert-service.js';
import type { AssociateDetailsService } from './modules/associate/associate-details-service.js';
import type { LinkCountService } from './modules/associate/link-count-service.js';
import type { AuditService } from './modules/audit/audit-service.js';
import type { ReadAuditor } from './modules/audit/read-audit.js';
import type { Discloser } from './modules/disclosure/disclose.js';
import type { EpisodeService } from './modules/episode/episode-service.js';
import type { HistoryService } from './modules/history/history-service.js';
import type { FilterPublisher } from './modules/locator/filter-publisher.js';
import type { NodeStatusService } from './modules/node/node-status-service.js';
import type { RecordService } from './modules/records/record-service.js';
import type { InTx } from './modules/records/record-store-model.js';
import type { SubjectService } from './modules/subject/subject-service.js';

// Types only, and only from the modules: the generated resolver types import this file, so
// anything it imported that led back to them (createServices, createApp) would close a circle.

/** Per-process services, built once by createServices and shared by every request. */
export interface Services {
  records: RecordService;
  episodes: EpisodeService;
  audit: AuditService;
  subjects: SubjectService;
  /** The owner's disclosure policy, the record signer and the members' contacts. */
  disclosure: Discloser;
  /** The calling end of the peer protocol; null when this node is not federated. */
  federation: FederationClient | null;
  /** The audited reads of the federation (federatedEpisodes and the history's reads). */
  federatedReads: FederatedReadService;
  /** A child's history and the locations of concern near a point, from the federation. */
  history: HistoryService;
  /** An associate's name from the force's records system, when the owner's policy releases it. */
  associateDetails: AssociateDetailsService;
  /** What the node says of itself (nodeStatus, /readyz). */
  node: NodeStatusService;
  /** Alerts: the outbox, the inbox, and the members' alert operations. */
  alerts: AlertService;
  /** This node's associates' cross-force link counts, kept fresh in the background. */
  linkCounts: LinkCountService;
  /** The record locator: this node's membership filter (mcx.filter/2); null when it serves none (MCX_LOCATOR=off). */
  locatorFilter: FilterPublisher | null;
  /** The members' filters as this node holds them, for choosing whom to ask; null when the locator is not used (MCX_LOCATOR off or serve). */
  locatorView: FilterView | null;
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
  /** A peer's request: the caller's entry and token, this node's disclosure entry, and whether the answer was cut at a cap. */
  /** A member's request: its caller entry, token id and expiry (ms); this node's disclosure entry, and whether the answer was cut. */
  peerCall: {
    callerEntry: string;
    jti: string;
    expiresAt?: number;
    entry: { id: string; hash: string } | null;
    truncated?: boolean;
  } | null;
  /** The hook that writes a write's audit entry inside the write's own transaction. */
  auditWrite(viewer: Viewer, action: AuditAction, operation: string): InTx;
}
