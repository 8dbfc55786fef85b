import { Agent as HttpAgent, validateHeaderName, validateHeaderValue } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  IsolatedCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';

import { McxError } from '@mcx/errors';
import { acquireEventLoopMonitor, EVENT_LOOP_RESOLUTION_MS } from '@mcx/telemetry';

import { FanOutReason, FederationErrorCode } from './federation-errors.js';
import { postOnce, type AttemptOutcome, type PreparedPost } from './peer-attempt.js';
import type { PeerRequest, PeerResult, PeerStatus } from './peer-result.js';

/** Options for `createFanOut`. */
export interface FanOutOptions {
  /** Each member's request is cut after this many ms (reason `TIMEOUT`), e.g. 1000. */
  perPeerTimeoutMs: number;
  /** The whole call is cut this many ms after it starts (reason `DEADLINE`), e.g. 1500. */
  overallDeadlineMs: number;
  /** Stop reading and abort once a response body exceeds this many bytes (`bad_data`, `RESPONSE_TOO_LARGE`). */
  maxResponseBytes: number;
  /** One breaker per member: opens after `consecutiveFailures`; lets one trial through after `halfOpenAfterMs`. */
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number };
  /**
   * A member's timeout is not counted by its breaker when this process's own event loop was this
   * many ms late in the last second or so (default 200): the caller was overloaded, not the member.
   */
  callerLagMs?: number;
  /** Called once per member result, for the caller's metrics; anything it throws is ignored. */
  onResult?: (r: PeerResult) => void;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborting it cuts outstanding requests (`timed_out`, `ABORTED`). */
  signal?: AbortSignal;
  /**
   * One query's deadline, shared by every call the query makes: a `performance.now()` instant
   * (from `deadlineFromNow()` when the query started). The call is cut at the earlier of this and
   * its own `overallDeadlineMs` (`DEADLINE`); a request is not sent once it has passed.
   */
  deadlineAt?: number;
}

/** A fan-out client; one per node, so keep-alive connections and breakers persist across calls. */
export interface FanOut {
  /**
   * POSTs each request once, all in parallel, and resolves with one result per request in the
   * same order, within about `overallDeadlineMs` (or by `deadlineAt`, if earlier). Never rejects
   * for a peer's failure; rejects `FANOUT_CLOSED` after `close()`.
   */
  call(requests: PeerRequest[], opts?: CallOptions): Promise<PeerResult[]>;
  /**
   * The deadline of a query that starts now: `performance.now() + overallDeadlineMs`. A query that
   * makes several calls (one after another, or side by side) takes it once, at its start, and
   * passes it to each as `deadlineAt`, so the whole query ends within one `overallDeadlineMs`.
   */
  deadlineFromNow(): number;
  /** The member's breaker as the next call would find it (`half_open`: the next call sends the one trial, or it is in flight). */
  breakerState(member: string): 'closed' | 'open' | 'half_open';
  /** Destroys the keep-alive agents (and with them any request in flight). */
  close(): Promise<void>;
}

/** Statuses that count as a breaker failure: the peer is sick, not merely saying no. */
const FAILURES: ReadonlySet<PeerStatus> = new Set<PeerStatus>(['unavailable', 'timed_out', 'bad_data']);

/** An outcome the breaker must not hear about (the caller aborted outside a trial); carried past cockatiel as an unhandled error. */
class NotCounted extends Error {
  constructor(readonly outcome: AttemptOutcome) {
    super('outcome not counted by the breaker');
  }
}

interface MemberBreaker {
  policy: CircuitBreakerPolicy;
  /** `Date.now()` when it last opened: cockatiel measures the open period with `Date.now()` too. */
  openedAt: number;
}

function assertOptions(options: FanOutOptions): void {
  const positive = (n: number) => Number.isFinite(n) && n > 0;
  const { perPeerTimeoutMs, overallDeadlineMs, maxResponseBytes, breaker } = options;
  const ok =
    positive(perPeerTimeoutMs) &&
    positive(overallDeadlineMs) &&
    Number.isSafeInteger(maxResponseBytes) &&
    maxResponseBytes > 0 &&
    Number.isSafeInteger(breaker?.consecutiveFailures) &&
    breaker.consecutiveFailures > 0 &&
    Number.isFinite(breaker.halfOpenAfterMs) &&
    breaker.halfOpenAfterMs >= 0;
  if (!ok)
    throw new McxError(
      FederationErrorCode.FANOUT_OPTIONS_INVALID,
      'fan-out timeouts, size bound and breaker settings must be positive numbers',
    );
}

/** The request as it will be sent, or null when it cannot be (bad URL or header). */
function prepare(request: PeerRequest): PreparedPost | null {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const headers: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(request.headers)) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      headers[name.toLowerCase()] = value;
    }
  } catch {
    return null;
  }
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(request.body));
  return { url, headers, body: request.body };
}

const notSent = (member: string, status: PeerStatus, reason: string): PeerResult => ({
  member,
  status,
  latencyMs: 0,
  httpStatus: null,
  body: null,
  reason,
  responseHeaders: {},
});

/**
 * Creates the fan-out client a node uses to ask its peer nodes in parallel. One attempt per
 * member per call (no retries), over keep-alive agents (one per protocol, reused across calls),
 * each cut at min(`perPeerTimeoutMs`, time left to `overallDeadlineMs`). One cockatiel circuit
 * breaker per member (`ConsecutiveBreaker`): `unavailable`, `timed_out` and `bad_data` count as
 * failures; `answered` and `refused` count as successes (a 4xx is not a sick peer). An `ABORTED`
 * outcome is not counted, except when it was the half-open trial (then it reopens the breaker);
 * nor is a request never sent because the query's `deadlineAt` had already passed, nor a timeout
 * while this process's own event loop was more than `callerLagMs` late (again except a trial).
 *
 * Half-open: after `halfOpenAfterMs` the next call sends exactly one trial to the member; while it
 * is in flight every other request to that member gets `circuit_open` at once (cockatiel itself
 * would make them wait for the trial, past their own deadline). Success closes the breaker,
 * failure reopens it for another `halfOpenAfterMs`.
 *
 * Clock: cockatiel 3.2.1 measures the open period with `Date.now()` (and so does `breakerState`),
 * while the timeouts here use real timers and `performance.now()`. Tests can therefore move the
 * breaker's clock with `vi.useFakeTimers({ toFake: ['Date'] })` and `vi.setSystemTime(...)`
 * while real timers and loopback sockets keep working.
 *
 * @example
 * const fanOut = createFanOut({ perPeerTimeoutMs: 1000, overallDeadlineMs: 1500, maxResponseBytes: 1 << 20,
 *   breaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 } });
 * const results = await fanOut.call(members.map((m) => ({ member: m.code, url: m.searchUrl, headers: { authorization }, body })));
 * const complete = results.every((r) => r.status === 'answered');
 */
export function createFanOut(options: FanOutOptions): FanOut {
  assertOptions(options);
  const { perPeerTimeoutMs, overallDeadlineMs, maxResponseBytes, onResult } = options;
  const callerLagMs = options.callerLagMs ?? 200;
  // The process's shared event-loop sampler (@mcx/telemetry): one timer however many fan-outs and nodes it holds.
  const lag = acquireEventLoopMonitor();
  const { consecutiveFailures, halfOpenAfterMs } = options.breaker;
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const breakers = new Map<string, MemberBreaker>();
  let closed = false;

  const breakerFor = (member: string): MemberBreaker => {
    let entry = breakers.get(member);
    if (entry === undefined) {
      const policy = circuitBreaker(
        handleWhen((error) => !(error instanceof NotCounted)).orWhenResult((outcome) => FAILURES.has((outcome as AttemptOutcome).status)),
        { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(consecutiveFailures) },
      );
      const created: MemberBreaker = { policy, openedAt: 0 };
      policy.onStateChange((state) => {
        if (state === CircuitState.Open) created.openedAt = Date.now();
      });
      breakers.set(member, created);
      entry = created;
    }
    return entry;
  };

  const stateOf = (entry: MemberBreaker | undefined): 'closed' | 'open' | 'half_open' => {
    switch (entry?.policy.state) {
      case undefined:
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      case CircuitState.Open:
        return Date.now() - entry.openedAt >= halfOpenAfterMs ? 'half_open' : 'open';
      default:
        return 'open';
    }
  };

  const attempt = async (request: PeerRequest, deadlineAt: number, signal: AbortSignal | undefined): Promise<PeerResult> => {
    const { member } = request;
    if (signal?.aborted) return notSent(member, 'timed_out', FanOutReason.ABORTED);
    const post = prepare(request);
    if (post === null) return notSent(member, 'unavailable', FanOutReason.REQUEST_INVALID);

    const entry = breakerFor(member);
    // Decided synchronously, so two requests to one member in one call cannot both be the trial.
    if (stateOf(entry) === 'open' || entry.policy.state === CircuitState.HalfOpen)
      return notSent(member, 'circuit_open', FanOutReason.CIRCUIT_OPEN);
    // No time left for this query: the member is not asked, and its breaker hears nothing of it.
    if (deadlineAt <= performance.now()) return notSent(member, 'timed_out', FanOutReason.DEADLINE);
    const trial = entry.policy.state === CircuitState.Open;

    const limits = {
      perPeerTimeoutMs,
      deadlineAt,
      maxResponseBytes,
      agent: post.url.protocol === 'https:' ? agents.https : agents.http,
      signal,
    };
    try {
      const outcome = await entry.policy.execute(async () => {
        const sentAt = performance.now();
        const result = await postOnce(post, limits);
        if (result.reason === FanOutReason.ABORTED && !trial) throw new NotCounted(result);
        // Timed out while this process could not run its callbacks in time (its own timer fired late,
        // or its event loop was late just before): the caller's overload, not the member's.
        const late = performance.now() - sentAt - Math.min(perPeerTimeoutMs, Math.max(0, deadlineAt - sentAt));
        if (result.status === 'timed_out' && !trial && Math.max(late, lag.figures().recentMaxMs + EVENT_LOOP_RESOLUTION_MS) > callerLagMs)
          throw new NotCounted(result);
        return result;
      });
      return { member, ...outcome };
    } catch (error) {
      if (error instanceof NotCounted) return { member, ...error.outcome };
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError)
        return notSent(member, 'circuit_open', FanOutReason.CIRCUIT_OPEN);
      throw error;
    }
  };

  const report = (result: PeerResult): PeerResult => {
    try {
      onResult?.(result);
    } catch {
      // A failing metrics hook must not fail a search.
    }
    return result;
  };

  return {
    async call(requests, opts) {
      if (closed) throw new McxError(FederationErrorCode.FANOUT_CLOSED, 'this fan-out client has been closed');
      // The query's deadline when it is given and earlier; never later than this call's own.
      const own = performance.now() + overallDeadlineMs;
      const given = opts?.deadlineAt;
      const deadlineAt = given !== undefined && Number.isFinite(given) ? Math.min(given, own) : own;
      return Promise.all(requests.map((request) => attempt(request, deadlineAt, opts?.signal).then(report)));
    },
    deadlineFromNow: () => performance.now() + overallDeadlineMs,
    breakerState: (member) => stateOf(breakers.get(member)),
    async close() {
      closed = true;
      lag.release();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
