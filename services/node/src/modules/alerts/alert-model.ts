/** Alerts (DESIGN.md "Alerts"): the outbox, inbox and delivery shapes, and the alert error codes. */
import type { McxAlertKind } from '../../__generated__/resolvers-types.js';

/** The alert errors a caller can see. */
export const AlertErrorCode = {
  /** acknowledgeAlert: no alert with this id in this node's inbox. */
  ALERT_NOT_FOUND: 'ALERT_NOT_FOUND',
  /** peerAlert: the message does not parse as an mcx.alert/1 message. */
  ALERT_MALFORMED: 'ALERT_MALFORMED',
  /** peerAlert: the signature does not verify with the sending member's record key. */
  ALERT_BAD_SIGNATURE: 'ALERT_BAD_SIGNATURE',
  /** peerAlert: the message names another sender or another recipient than the token. */
  ALERT_WRONG_PARTY: 'ALERT_WRONG_PARTY',
  /** peerAlert: the message's id is not the one derived from its kind, sender, episode and recipient. */
  ALERT_ID_MISMATCH: 'ALERT_ID_MISMATCH',
  /** peerAlert: an alert with this id is already in the inbox with other bytes or from another sender. */
  ALERT_ID_CONFLICT: 'ALERT_ID_CONFLICT',
  /** watchChild, renewWatch: the expiry is not in the future, or more than 90 days away. */
  WATCH_EXPIRY_OUT_OF_RANGE: 'WATCH_EXPIRY_OUT_OF_RANGE',
  /** watchChild: this node holds no linkage keys for the subject, so no alert could ever find it. */
  WATCH_SUBJECT_UNKNOWN: 'WATCH_SUBJECT_UNKNOWN',
  /** renewWatch, cancelWatch: no watch with this id here. */
  WATCH_NOT_FOUND: 'WATCH_NOT_FOUND',
  /** renewWatch: the watch has expired or was cancelled; set a new one. */
  WATCH_ENDED: 'WATCH_ENDED',
  /** An enqueue came back without a job id (pg-boss returns null for a queue that does not exist). */
  ALERT_NOT_ENQUEUED: 'ALERT_NOT_ENQUEUED',
} as const;
export type AlertErrorCode = (typeof AlertErrorCode)[keyof typeof AlertErrorCode];

/** The queues the schema owner's migration created (0012_alerts.sql). */
export const ALERT_QUEUES = {
  crossMatch: 'mcx-alert-crossmatch',
  deliver: 'mcx-alert-deliver',
  dead: 'mcx-alert-dead',
  webhook: 'mcx-alert-webhook',
} as const;

/**
 * What the outbox holds for an OPEN episode: pointers only. The episode (verified) and the
 * subject's keys are read from the database when the job runs.
 */
export interface CrossMatchPayload {
  episodeOwner: string;
  episodeId: string;
  episodeVersion: number;
  subjectRef: string;
  /** The publish's own audit entry (`MEMBER:seq`), named as the caller entry of the cross-match. */
  callerEntry: string | null;
}

export interface OutboxRow {
  id: string;
  kind: 'CROSS_MATCH';
  payload: CrossMatchPayload;
}

/** The episode as an alert points to it. */
export interface AlertEpisode {
  owner: string;
  id: string;
  ownerReference: string | null;
  contact24x7: string | null;
  riskGrade: string | null;
  reportedAt: string | null;
}

export interface AlertThreshold {
  count: number;
  days: number;
  episodes: number;
}

export interface AlertHolder {
  member: string;
  subjects: number;
  episodes: number;
}

/** What an inbox row's body holds. */
export interface AlertBody {
  yourSubjectRefs: string[];
  episode: AlertEpisode;
  holders: AlertHolder[];
  threshold?: AlertThreshold | null;
  watch?: { id: string; purpose: string; caseRef: string } | null;
}

/** A watch as stored and as GraphQL returns it (McxWatch); times in ISO 8601. */
export interface WatchModel {
  id: string;
  subjectRef: string;
  purpose: string;
  caseRef: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  cancelledAt: string | null;
}

/** One alert as GraphQL returns it (McxAlert). */
export interface AlertModel extends AlertBody {
  id: string;
  eventNumber: number;
  kind: McxAlertKind;
  fromNode: string;
  /** ISO 8601. */
  receivedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

/** One signed message waiting for (or past) delivery to one member. */
export interface DeliveryRow {
  id: string;
  outboxId: string;
  recipient: string;
  bytes: string;
  signature: string;
  state: 'pending' | 'delivered' | 'dead' | 'withheld';
  attempts: number;
}
