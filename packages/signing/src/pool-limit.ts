// Bounds the signature work a caller queues on libuv's thread pool (the *Async forms in jws.ts).
// The pool is small (4 threads by default) and shared with the node's own signing, file reads and
// DNS lookups; its queue has no bound. A receiver of unauthenticated requests (a member's peer
// endpoint, where anyone can send a token naming a real kid with a forged signature) must not let
// a flood queue unbounded work there: past `limit` calls in flight, the work is done in place on
// the event loop, as before the pool was used, so the edge's load shedding sees it and the flood
// is throttled by the loop itself.

/** Runs pooled work while fewer than `limit` such calls are in flight, else the same work in place. */
export interface PoolLimiter {
  run<T>(pooled: () => Promise<T>, inPlace: () => T): Promise<T>;
  /** Calls whose pooled work has not settled yet. */
  readonly inFlight: number;
}

export function poolLimiter(limit: number): PoolLimiter {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError('limit must be a whole number, 0 or more');
  let inFlight = 0;
  return {
    async run(pooled, inPlace) {
      if (inFlight >= limit) return inPlace();
      inFlight++;
      try {
        return await pooled();
      } finally {
        inFlight--;
      }
    },
    get inFlight() {
      return inFlight;
    },
  };
}
