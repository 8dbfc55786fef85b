/** The live alert stream (DESIGN.md "Alerts"): its refusals, its events, and what the HTTP edge gives its resolver. */
import type { AlertModel } from './alert-model.js';

/** The alert stream's own reasons (extensions.reason), beside the node's GraphQL codes. */
export const AlertStreamErrorCode = {
  /** This node already serves as many streams as MCX_ALERT_STREAM_MAX_STREAMS allows. */
  ALERT_STREAMS_PER_NODE: 'ALERT_STREAMS_PER_NODE',
  /** This person already holds as many streams as MCX_ALERT_STREAM_MAX_PER_USER allows. */
  ALERT_STREAMS_PER_USER: 'ALERT_STREAMS_PER_USER',
  /** A subscription sent to POST /graphql: subscriptions are served at /graphql/stream only. */
  SUBSCRIPTION_NEEDS_STREAM: 'SUBSCRIPTION_NEEDS_STREAM',
  /** A query or mutation sent to /graphql/stream: it serves subscriptions only. */
  STREAM_SUBSCRIPTIONS_ONLY: 'STREAM_SUBSCRIPTIONS_ONLY',
  /** A request to /graphql/stream whose body is not `{ query, variables?, operationName? }`. */
  STREAM_REQUEST_INVALID: 'STREAM_REQUEST_INVALID',
  /** A request to /graphql/stream that does not accept text/event-stream. */
  STREAM_NOT_ACCEPTED: 'STREAM_NOT_ACCEPTED',
  /** This person opened streams faster than MCX_ALERT_STREAM_OPENS_PER_MINUTE allows. */
  ALERT_STREAM_OPEN_RATE: 'ALERT_STREAM_OPEN_RATE',
  /** The stream ended while a read was under way (the client left or the node is closing). */
  ALERT_STREAM_CLOSED: 'ALERT_STREAM_CLOSED',
} as const;
export type AlertStreamErrorCode = (typeof AlertStreamErrorCode)[keyof typeof AlertStreamErrorCode];

/** One event of a stream: an alert, or the end of the token's life. */
export type AlertStreamEvent = { alertAdded: AlertModel; expired?: undefined } | { alertAdded?: undefined; expired: true };

/** Who reads the inbox: their owner string (ownerOf), and whether they see every user's alerts (an auditor). */
export interface AlertStreamReader {
  user: string;
  everyone: boolean;
}

/** What /graphql/stream puts in the context of its subscription (absent on POST /graphql). */
export interface AlertStreamRequest {
  /** A place among the node's streams (capped per node and per person); throws an AlertStreamErrorCode McxError. */
  open(user: string): AlertStreamLease;
  /** The highest event number in the inbox that `reader` may see (0 when none): no audit, no alert read. */
  lastEventNumber(reader: AlertStreamReader): Promise<number>;
  /** Resolves once every event sent so far has been written and the response is not backed up (or the stream ended). */
  ready(): Promise<void>;
  /** Alerts sent on connect before the rest is left to alerts(after:) (MCX_ALERT_STREAM_CATCH_UP). */
  catchUp: number;
  /** The SSE Last-Event-ID the client sent, when it is an event number. */
  lastEventId: number | null;
  /**
   * Called with each event number as it is sent (the SSE `id:` of the event); `truncated` when the
   * catch-up stopped at its cap with more after it (the event says so: extensions.catchUpTruncated).
   */
  sent(eventNumber: number, truncated?: boolean): void;
}

/** One open stream's place among the node's streams (AlertStreamHub): what wakes it, and its end. */
export interface AlertStreamLease {
  /** How many wakes so far: a reader notes it before reading, and waits only if nothing came since. */
  readonly version: number;
  readonly closed: boolean;
  /** The token the stream was opened with has expired. */
  readonly expired: boolean;
  /** Resolves at the next wake after `since` (at once if one came already), or when the lease ends. */
  wait(since: number): Promise<void>;
  /** Frees the stream's place and its timer; called once the stream ends, whichever way. */
  close(): void;
}
