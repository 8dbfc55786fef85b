import { lt, sql } from 'drizzle-orm';

import { schema, type Database } from '@mcx/db';

import { GroupCommit } from '../modules/audit/group-commit.js';

const { peerTokenJtis } = schema;

// A group's uses in one statement of fixed text (arrays, not a VALUES list per group size), so the
// server parses it once per connection. Times go as text: drizzle hands timestamp arrays to the
// driver unserialised.
//
// The statement's own transaction commits without waiting for its WAL flush (synchronous_commit
// off for that transaction alone: set_config's `true`, reset at its end). The row is seen by every
// other session at once, so a replay is refused as before. And it is durable before anything is
// disclosed under the token: nothing is answered before the disclosure's audit entry commits
// (synchronous, in the same database), and that commit flushes the WAL up to its own record, past
// this one. What a crash can lose is only the use of a token under which nothing was disclosed.
// Each answer then waits for one flush, not two.
const INSERT_USES = `with unflushed as (select set_config('synchronous_commit', 'off', true))
  insert into peer_token_jtis (issuer, jti, expires_at)
  select u.issuer, u.jti, u.expires_at
    from unnest($1::text[], $2::text[], $3::text[]::timestamptz[]) as u(issuer, jti, expires_at), unflushed
  on conflict do nothing returning issuer, jti`;

/**
 * The node tokens this node has accepted, in its database, so every replica refuses a replay.
 * A row is kept until its token has expired (plus the clock leeway); after that the token is
 * refused as expired anyway.
 *
 * Concurrent requests share one insert (group commit, as the audit chain's appends do): a
 * request's first use resolves only once the insert carrying it has committed, and a token id
 * that comes twice in one group is a first use once.
 */
export class JtiStore {
  private readonly uses = new GroupCommit((uses: { issuer: string; jti: string; expiresAt: Date }[]) => this.insert(uses));

  constructor(private readonly db: Database) {}

  /** Records a token's first use. False: it was used before (a replay). */
  firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    return this.uses.submit({ issuer, jti, expiresAt });
  }

  /** One insert for a group of uses: true for each that was the token id's first (a second in the same group is a replay). */
  private async insert(uses: { issuer: string; jti: string; expiresAt: Date }[]): Promise<boolean[]> {
    const key = (u: { issuer: string; jti: string }) => `${u.issuer}\n${u.jti}`;
    const firstIndex = new Map<string, number>();
    uses.forEach((u, i) => {
      if (!firstIndex.has(key(u))) firstIndex.set(key(u), i);
    });
    const firsts = [...firstIndex.values()].map((i) => uses[i]!);
    const rows = await this.db.$client.unsafe<{ issuer: string; jti: string }[]>(
      INSERT_USES,
      [firsts.map((u) => u.issuer), firsts.map((u) => u.jti), firsts.map((u) => u.expiresAt.toISOString())],
      { prepare: true },
    );
    const inserted = new Set(rows.map(key));
    return uses.map((u, i) => firstIndex.get(key(u)) === i && inserted.has(key(u)));
  }

  /** Deletes rows of tokens that expired more than `leewaySec` ago; returns how many. */
  async sweep(now: Date, leewaySec: number): Promise<number> {
    const rows = await this.db
      .delete(peerTokenJtis)
      .where(lt(peerTokenJtis.expiresAt, new Date(now.getTime() - leewaySec * 1000)))
      .returning({ jti: peerTokenJtis.jti });
    return rows.length;
  }

  /** How many are held (for tests and metrics). */
  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(peerTokenJtis);
    return row?.n ?? 0;
  }
}
