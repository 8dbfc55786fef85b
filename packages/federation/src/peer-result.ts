// The fan-out's request and result types, in a file of their own: fanout.ts and peer-attempt.ts
// both need them, and neither may import the other for them.

/**
 * How one member fared in one fan-out call:
 * - `answered`: 2xx with a JSON body within the size bound;
 * - `refused`: the peer answered 4xx (it is up and said no; not a breaker failure);
 * - `unavailable`: 5xx, or the connection failed (ECONNREFUSED, ECONNRESET, EHOSTUNREACH...);
 * - `timed_out`: cut by the per-peer timeout (`TIMEOUT`), the overall deadline (`DEADLINE`: the call's own, or the query's
 *   `deadlineAt`; not sent at all when that has already passed) or the caller's signal (`ABORTED`);
 * - `bad_data`: the answer was too large (`RESPONSE_TOO_LARGE`), not JSON (`NOT_JSON`) or a 1xx/3xx (`HTTP_3xx`);
 * - `circuit_open`: the member's breaker is open, or its one half-open trial is in flight; no request was made.
 */
export type PeerStatus = 'answered' | 'timed_out' | 'refused' | 'unavailable' | 'circuit_open' | 'bad_data';

/** One POST to one member node. */
export interface PeerRequest {
  /** The member code (one circuit breaker per member). */
  member: string;
  /** `http:` or `https:` URL of the member's endpoint. */
  url: string;
  /** Extra request headers (e.g. `authorization`); `content-type` and `content-length` are always set here. */
  headers: Record<string, string>;
  /** The JSON request body, already serialised. */
  body: string;
}

/** The honest outcome for one member. */
export interface PeerResult {
  member: string;
  status: PeerStatus;
  /** Wall time spent on this member, in whole ms (0 for `circuit_open` and for requests never sent). */
  latencyMs: number;
  /** The HTTP status, when a response head arrived. */
  httpStatus: number | null;
  /** Parsed JSON, only when `status` is `answered`. */
  body: unknown | null;
  /** A stable code (`TIMEOUT`, `DEADLINE`, `ABORTED`, `ECONNREFUSED`, `HTTP_503`, `RESPONSE_TOO_LARGE`, `NOT_JSON`, `CIRCUIT_OPEN`...); null when answered. Never body contents. */
  reason: string | null;
  /** Response headers with lower-case names; empty when no response head arrived. */
  responseHeaders: Record<string, string>;
}
