import { lt, sql } from 'drizzle-orm';

import { schema, type Database } from '@mcx/db';

const { peerTokenJtis } = schema;

/**
 * The node tokens this node has accepted, in its database, so every replica refuses a replay.
 * A row is kept until its token has expired (plus the clock leeway); after that the token is
 * refused as expired anyway.
 */
export class JtiStore {
  constructor(private readonly db: Database) {}

  /** Records a token's first use. False: it was used before (a replay). */
  async firstUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.db
      .insert(peerTokenJtis)
      .values({ issuer, jti, expiresAt })
      .onConflictDoNothing()
      .returning({ jti: peerTokenJtis.jti });
    return rows.length === 1;
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
