/** SQL for the record locator: the linkage keys this node's filter holds, and a cheap fingerprint of what they depend on. */
import { sql } from 'drizzle-orm';

import type { Database } from '@mcx/db';

/** A check stuck on a lock or a slow disk gives up (and is tried again) instead of holding the next one back. */
const CHECK_STATEMENT_TIMEOUT = '10s';

export class LocatorStore {
  constructor(private readonly db: Database) {}

  private bounded<T>(run: (db: Pick<Database, 'execute'>) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('statement_timeout', ${CHECK_STATEMENT_TIMEOUT}, true)`);
      return run(tx);
    });
  }

  /**
   * The keys of this owner's subjects that have an episode not retracted: what mcx.history/1
   * could disclose something for. A retracted or erased child drops out; so does a subject with
   * no episode yet (it would match, and answer nothing).
   */
  async heldKeys(owner: string): Promise<{ keyVersion: string; key: string }[]> {
    const rows = (await this.bounded((db) =>
      db.execute(sql`
      select distinct k.key_version as "keyVersion", k.key as "key"
      from linkage_keys k
      where k.owner = ${owner} and k.holder_kind = 'subject'
        and exists (
          select 1 from records r
          where r.owner = k.owner and r.kind = 'episode' and r.subject_ref = k.holder and r.state <> 'RETRACTED'
        )`),
    )) as unknown as { keyVersion: string; key: string }[];
    return rows;
  }

  /**
   * Changes whenever the held keys may have: keys added, replaced or erased (count and newest),
   * episodes written, retracted, restricted or erased (count and latest change).
   */
  async fingerprint(owner: string): Promise<string> {
    const rows = (await this.bounded((db) =>
      db.execute(sql`
      select
        (select count(*) from linkage_keys where owner = ${owner} and holder_kind = 'subject')::text as keys,
        (select max(created_at) from linkage_keys where owner = ${owner} and holder_kind = 'subject')::text as keys_at,
        (select count(*) from records where owner = ${owner} and kind = 'episode' and state = 'RETRACTED')::text as retracted,
        (select count(*) from records where owner = ${owner} and kind = 'episode')::text as episodes,
        (select max(updated_at) from records where owner = ${owner} and kind = 'episode')::text as episodes_at
    `),
    )) as unknown as Record<string, string | null>[];
    const r = rows[0] ?? {};
    return [r.keys, r.keys_at, r.retracted, r.episodes, r.episodes_at].join('|');
  }
}
