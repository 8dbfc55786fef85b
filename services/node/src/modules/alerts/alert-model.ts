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
  /** renewWatch, cancelWatch: the watch was set by another user (only its creator may change it). */
  WATCH_NOT_YOURS: 'WATCH_NOT_YOURS',
  /** watches(all: true): listing every user's watches is for auditors. */
  WATCH_LIST_NOT_PERMITTED: 'WATCH_LIST_NOT_PERMITTED',
  /** peerAlert: the JWS is not an alert message's (its typ is another's: a record, a peer token, a checkpoint). */
  ALERT_WRONG_TYP: 'ALERT_WRONG_TYP',
  /** peerAlert: the message's sentAt is older than MCX_ALERT_MAX_AGE_SECONDS. */
  ALERT_TOO_OLD: 'ALERT_TOO_OLD',
  /** peerAlert: the message's sentAt is later than now plus MCX_ALERT_CLOCK_SKEW_SECONDS. */
  ALERT_FROM_FUTURE: 'ALERT_FROM_FUTURE',
  /** peerAlert: the sending member is over its quota of alerts per minute (MCX_ALERT_INBOUND_PER_MINUTE); flagged. */
  ALERT_QUOTA_EXCEEDED: 'ALERT_QUOTA_EXCEEDED',
  /** mcx.holders/1: a member's answer claims counts out of range (above the cap, recent above all, a subject twice); flagged, not counted. */
  HOLDERS_OUT_OF_RANGE: 'HOLDERS_OUT_OF_RANGE',
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
  /** The episodes in the window the owner's policy lets the recipient count; null: the policy withholds episode counts from it. */
  episodes: number | null;
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
  /** Members that had not answered mcx.holders/1 when the summary or threshold was worked out. */
  notAnswered?: string[];
  watch?: { id: string; purpose: string; caseRef: string } | null;
}

/** A watch as stored and as GraphQL returns it (McxWatch); times in ISO 8601. */
export interface WatchModel {
  id: string;
  subjectRef: string;
  purpose: string;
  caseRef: string;
  /** Stored: its creator as ownerOf gives it (issuer and subject); to a reader, as ownerLabel shows it. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  cancelledAt: string | null;
}

/** One alert as GraphQL returns it (McxAlert). */
export interface AlertModel extends Omit<AlertBody, 'notAnswered'> {
  notAnswered: string[];
  id: string;
  eventNumber: number;
  kind: McxAlertKind;
  fromNode: string;
  /** ISO 8601. */
  receivedAt: string;
  acknowledgedAt: string | null;
  /** Who acknowledged it first. Owners and acknowledgers are stored as ownerOf gives them, and shown as ownerLabel does. */
  acknowledgedBy: string | null;
  /** The watcher a WATCH alert is for; null: the node's. */
  forUser: string | null;
  /** Every acknowledgement: who and when (ISO 8601), oldest first. */
  acknowledgements: { by: string; at: string }[];
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
