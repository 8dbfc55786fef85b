import { McxError } from '@mcx/errors';

// Every code the peer protocol speaks, each written once here so that a search for a code finds
// its definition. They travel as a fan-out result's `reason`, a member row's `reason`, a dropped
// record's `reason` or a refusal's `x-mcx-refusal` header; none ever carries body contents.

/** Why one member's request produced no answer (a fan-out result's `reason`). */
export const FanOutReason = {
  /** Cut by the per-peer timeout. */
  TIMEOUT: 'TIMEOUT',
  /** Cut by the call's or the query's deadline, or not sent because it had passed. */
  DEADLINE: 'DEADLINE',
  /** Cut by the caller's signal. */
  ABORTED: 'ABORTED',
  /** A connection error without a stable code of its own. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** The connection closed before anything settled. */
  ECONNRESET: 'ECONNRESET',
  /** The URL or a header could not be sent. */
  REQUEST_INVALID: 'REQUEST_INVALID',
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  NOT_JSON: 'NOT_JSON',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
} as const;
export type FanOutReason = (typeof FanOutReason)[keyof typeof FanOutReason];

/**
 * A non-2xx answer's reason: the statuses a member, its proxy or a misrouted URL answer with, each
 * written out, and any other status by its class. The exact status travels beside it (httpStatus).
 */
export const HttpStatusReason = {
  HTTP_301: 'HTTP_301',
  HTTP_302: 'HTTP_302',
  HTTP_307: 'HTTP_307',
  HTTP_308: 'HTTP_308',
  HTTP_400: 'HTTP_400',
  HTTP_401: 'HTTP_401',
  HTTP_403: 'HTTP_403',
  HTTP_404: 'HTTP_404',
  HTTP_405: 'HTTP_405',
  HTTP_408: 'HTTP_408',
  HTTP_413: 'HTTP_413',
  HTTP_415: 'HTTP_415',
  HTTP_429: 'HTTP_429',
  HTTP_500: 'HTTP_500',
  HTTP_501: 'HTTP_501',
  HTTP_502: 'HTTP_502',
  HTTP_503: 'HTTP_503',
  HTTP_504: 'HTTP_504',
  HTTP_1XX: 'HTTP_1XX',
  HTTP_3XX: 'HTTP_3XX',
  HTTP_4XX: 'HTTP_4XX',
  HTTP_5XX: 'HTTP_5XX',
} as const;
export type HttpStatusReason = (typeof HttpStatusReason)[keyof typeof HttpStatusReason];

const HTTP_STATUS_REASONS = new Map<string, HttpStatusReason>(Object.values(HttpStatusReason).map((r) => [r, r]));

/** The reason a non-2xx answer is reported with: its status when listed, else its class (an unknown class counts as a server error). */
export function httpStatusReason(httpStatus: number): HttpStatusReason {
  return (
    HTTP_STATUS_REASONS.get(`HTTP_${httpStatus}`) ??
    HTTP_STATUS_REASONS.get(`HTTP_${Math.floor(httpStatus / 100)}XX`) ??
    HttpStatusReason.HTTP_5XX
  );
}

/** Why the calling node reports a member as it does (a member row's `reason`), beyond the fan-out's own. */
export const MemberReason = {
  /** The member does not list the operation in its capabilities: not asked, and the answer is PARTIAL. */
  OPERATION_NOT_OFFERED: 'OPERATION_NOT_OFFERED',
  /** Production: the member's endpoint is not https, so it is not called. */
  INSECURE_ENDPOINT: 'INSECURE_ENDPOINT',
  /** The answer does not parse against the operation's wire schema. */
  MALFORMED_ANSWER: 'MALFORMED_ANSWER',
  /** The receipt verifies but is not for this member, token, caller entry or node. */
  RECEIPT_MISMATCH: 'RECEIPT_MISMATCH',
  /** The checkpoint the receipt quotes is not the member's own. */
  RECEIPT_CHECKPOINT_MISMATCH: 'RECEIPT_CHECKPOINT_MISMATCH',
  /** The receipt is dated more than RECEIPT_CLOCK_SKEW_MS from this node's clock: it would date the member's log wrongly. */
  RECEIPT_TIME_SKEWED: 'RECEIPT_TIME_SKEWED',
  RECEIPT_INVALID: 'RECEIPT_INVALID',
  /** The member cut its answer at one of its caps. */
  ANSWER_CAPPED: 'ANSWER_CAPPED',
  /** Records were dropped from the answer (see the row's `dropped`). */
  RECORDS_DROPPED: 'RECORDS_DROPPED',
} as const;
export type MemberReason = (typeof MemberReason)[keyof typeof MemberReason];

/** Why one record of an answer was dropped. */
export const DropReason = {
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** Another owner than the member that answered: a member never relays another's records. */
  WRONG_OWNER: 'WRONG_OWNER',
  /** Signed and well formed, but not what was asked for. */
  NOT_REQUESTED: 'NOT_REQUESTED',
  MALFORMED: 'MALFORMED',
  DUPLICATE: 'DUPLICATE',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Why a member's claims about its investigator were refused. */
export const ActRefusal = {
  PEER_CLAIMS_INVALID: 'PEER_CLAIMS_INVALID',
  PEER_ACT_KIND_NOT_SPOKEN_FOR: 'PEER_ACT_KIND_NOT_SPOKEN_FOR',
  PEER_ACT_OTHER_MEMBER: 'PEER_ACT_OTHER_MEMBER',
  PEER_ACT_UNKNOWN_ORGANISATION: 'PEER_ACT_UNKNOWN_ORGANISATION',
  PEER_CALLER_ENTRY_NOT_OWN: 'PEER_CALLER_ENTRY_NOT_OWN',
} as const;
export type ActRefusal = (typeof ActRefusal)[keyof typeof ActRefusal];

/** Why the receiving node refused a request (the `x-mcx-refusal` header), beyond the claims. */
export const PeerRefusal = {
  NODE_TOKEN_MISSING: 'NODE_TOKEN_MISSING',
  NODE_TOKEN_MALFORMED: 'NODE_TOKEN_MALFORMED',
  /** The token was refused for a reason without a code of its own. */
  NODE_TOKEN_INVALID: 'NODE_TOKEN_INVALID',
  NODE_TOKEN_REQUEST_MISMATCH: 'NODE_TOKEN_REQUEST_MISMATCH',
  NODE_TOKEN_REPLAYED: 'NODE_TOKEN_REPLAYED',
  BAD_REQUEST: 'BAD_REQUEST',
  OPERATION_NOT_ALLOWED: 'OPERATION_NOT_ALLOWED',
  /** Also a member row's reason: see MemberReason. */
  OPERATION_NOT_OFFERED: MemberReason.OPERATION_NOT_OFFERED,
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  /** This node is not a member of a federation (no trust manifest installed). */
  NOT_FEDERATED: 'NOT_FEDERATED',
} as const;
export type PeerRefusal = (typeof PeerRefusal)[keyof typeof PeerRefusal];

/** Every code of the peer protocol, and the errors this package throws. */
export const FederationErrorCode = {
  /** createFanOut was given a non-positive timeout, size bound or breaker setting. */
  FANOUT_OPTIONS_INVALID: 'FANOUT_OPTIONS_INVALID',
  /** The fan-out client was called after close(). */
  FANOUT_CLOSED: 'FANOUT_CLOSED',
  ...FanOutReason,
  ...MemberReason,
  ...DropReason,
  ...ActRefusal,
  ...PeerRefusal,
} as const;
export type FederationErrorCode = (typeof FederationErrorCode)[keyof typeof FederationErrorCode];

/** True when `error` is an McxError with one of this package's codes. */
export function isFederationError(error: unknown): error is McxError & { code: FederationErrorCode } {
  return error instanceof McxError && Object.hasOwn(FederationErrorCode, error.code);
}
