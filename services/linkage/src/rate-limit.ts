/** The answer of a bucket: served, or how many whole seconds until this request would be. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSec: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets per member, counted in linkage keys (elements), not requests: a member may
 * spend `burst` at once and then `ratePerSecond` on average. Held in this process only, so
 * each replica limits on its own (see README).
 */
export class KeyRateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: { ratePerSecond: number; burst: number; now: () => Date },
  ) {}

  /** Spends `count` keys of `member`'s bucket, or spends nothing and says when to retry. */
  take(member: string, count: number): TakeResult {
    const { ratePerSecond, burst } = this.options;
    const nowMs = this.options.now().getTime();
    const bucket = this.#buckets.get(member) ?? { tokens: burst, atMs: nowMs };
    // A clock that steps back must not mint tokens, so elapsed time is never negative.
    const elapsedSec = Math.max(0, nowMs - bucket.atMs) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsedSec * ratePerSecond);
    bucket.atMs = Math.max(bucket.atMs, nowMs);
    this.#buckets.set(member, bucket);
    if (count <= bucket.tokens) {
      bucket.tokens -= count;
      return { ok: true };
    }
    if (count > burst) return { ok: false, retryAfterSec: Math.ceil(burst / ratePerSecond) };
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((count - bucket.tokens) / ratePerSecond)) };
  }
}

/**
 * Remembers the node tokens seen until they expire, so a captured token cannot be replayed
 * against this replica. In memory: another replica does not see it (see README).
 */
export class ReplayCache {
  // Insertion order is close to expiry order (every token lives at most 60 s), so pruning
  // from the front stays cheap.
  readonly #seen = new Map<string, number>();

  /** Records `member`/`jti` until `expSec` (+ leeway); false if it was already seen. */
  remember(member: string, jti: string, expSec: number, nowMs: number, leewaySec: number): boolean {
    for (const [key, untilMs] of this.#seen) {
      if (untilMs > nowMs) break;
      this.#seen.delete(key);
    }
    const key = `${member} ${jti}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, (expSec + leewaySec) * 1000);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
