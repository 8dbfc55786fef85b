import { sql as dsql, lt } from 'drizzle-orm';

import { DURABLE_COMMIT_SQL } from '@mcx/db';

import { schema, type LinkageDb } from './db/index.js';

const { linkageTokenJtis } = schema;

/** The answer of a bucket: served, or how many whole seconds until this request would be. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSec: number };

/**
 * Token buckets per member, counted in linkage keys (elements), not requests: a member may
 * spend `burst` at once and then `ratePerSecond` on average. The buckets live in the linkage
 * database, so every replica draws on the same one: N replicas do not multiply the budget.
 */
export class KeyRateLimiter {
  constructor(
    private readonly store: Pick<LinkageDb, 'sql'>,
    private readonly options: { ratePerSecond: number; burst: number; now: () => Date },
  ) {}

  /**
   * Spends `count` keys of `member`'s bucket, or spends nothing and says when to retry. One
   * statement: the row lock of INSERT ... ON CONFLICT DO UPDATE serialises concurrent takes
   * across replicas, so two of them never spend the same tokens.
   */
  async take(member: string, count: number): Promise<TakeResult> {
    const { ratePerSecond, burst } = this.options;
    const at = this.options.now().toISOString();
    const { sql } = this.store;
    // A clock that steps back must not mint tokens, so elapsed time is never negative, and
    // the bucket's time only moves forward.
    const refilled = sql`least(${burst}::float8, b.tokens + greatest(0, extract(epoch from (${at}::timestamptz - b.refilled_at)))::float8 * ${ratePerSecond}::float8)`;
    const fits = count <= burst;
    // Its commit is durable whatever the session's synchronous_commit (DURABLE_COMMIT_SQL): the
    // used token's row before it (ReplayStore.firstUse) is made durable by this flush.
    const [row] = await sql<{ tokens: number; granted: boolean }[]>`
      with durable as (select ${sql.unsafe(DURABLE_COMMIT_SQL)})
      insert into linkage_rate_buckets as b (member, tokens, refilled_at, last_granted)
      select ${member}, ${fits ? burst - count : burst}::float8, ${at}::timestamptz, ${fits} from durable
      on conflict (member) do update set
        tokens = case when ${refilled} >= ${count}::float8 then ${refilled} - ${count}::float8 else ${refilled} end,
        refilled_at = greatest(b.refilled_at, excluded.refilled_at),
        last_granted = ${refilled} >= ${count}::float8
      returning tokens, last_granted as granted`;
    if (row === undefined) throw new Error('the rate bucket statement returned no row');
    if (row.granted) return { ok: true };
    // A refused take left the bucket at its refilled level, which `tokens` now holds.
    if (count > burst) return { ok: false, retryAfterSec: Math.ceil(burst / ratePerSecond) };
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((count - row.tokens) / ratePerSecond)) };
  }
}

/**
 * The node tokens seen, per member, until they expire: in the linkage database, so a token
 * used at one replica is refused as a replay at every other. A row is kept until its token
 * has expired (plus the clock leeway); after that the token is refused as expired anyway.
 */
export class ReplayStore {
  constructor(private readonly store: Pick<LinkageDb, 'db' | 'sql'>) {}

  /**
   * Records a token's first use. False: it was used before (a replay).
   *
   * The insert's own transaction commits without waiting for its WAL flush (synchronous_commit
   * off for it alone: set_config's `true`). Every replica sees the row at once, so a replay is
   * refused as before; and nothing is evaluated under the token before its bucket take
   * (KeyRateLimiter.take) commits, synchronously, in the same database, which flushes the WAL
   * past this row. A crash can lose only the use of a token under which nothing was evaluated,
   * and each call waits for one flush, not two.
   */
  async firstUse(member: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.store.sql<{ jti: string }[]>`
      with unflushed as (select set_config('synchronous_commit', 'off', true))
      insert into linkage_token_jtis (member, jti, expires_at)
      select ${member}::text, ${jti}::text, ${expiresAt.toISOString()}::timestamptz from unflushed
      on conflict do nothing returning jti`;
    return rows.length === 1;
  }

  /** Deletes rows of tokens that expired more than `leewaySec` before `now`; returns how many. */
  async sweep(now: Date, leewaySec: number): Promise<number> {
    const rows = await this.store.db
      .delete(linkageTokenJtis)
      .where(lt(linkageTokenJtis.expiresAt, new Date(now.getTime() - leewaySec * 1000)))
      .returning({ jti: linkageTokenJtis.jti });
    return rows.length;
  }

  /** How many are held (for tests and metrics). */
  async count(): Promise<number> {
    const [row] = await this.store.db.select({ n: dsql<number>`count(*)::int` }).from(linkageTokenJtis);
    return row?.n ?? 0;
  }
}
