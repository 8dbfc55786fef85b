/** SQL for the record locator: the linkage keys this node's filter holds, and the change counter (migration 0019) that says when to read them again. */
import { sql } from 'drizzle-orm';

import type { Database } from '@mcx/db';

export class LocatorStore {
  /** `checkTimeoutMs`: a check stuck on a lock or a slow disk gives up (and is tried again) instead of holding the next one back. */
  constructor(
    private readonly db: Database,
    private readonly checkTimeoutMs = 10_000,
  ) {}

  /**
   * The keys of this owner's subjects that have an episode not retracted: what mcx.history/1
   * could disclose something for. A retracted or erased child drops out; so does a subject with
   * no episode yet (it would match, and answer nothing).
   */
  private async heldKeysIn(db: Pick<Database, 'execute'>, owner: string): Promise<{ keyVersion: string; key: string }[]> {
    return (await db.execute(sql`
      select distinct k.key_version as "keyVersion", k.key as "key"
      from linkage_keys k
      where k.owner = ${owner} and k.holder_kind = 'subject'
        and exists (
          select 1 from records r
          where r.owner = k.owner and r.kind = 'episode' and r.subject_ref = k.holder and r.state <> 'RETRACTED'
        )`)) as unknown as { keyVersion: string; key: string }[];
  }

  /** Makes writes count (migration 0019): until a node serves a filter, the change counter takes no lock. */
  async enableChangeCounter(): Promise<void> {
    await this.db.execute(sql`update locator_change_counter set enabled = true where id and not enabled`);
  }

  /** How many statements have written keys or records since the counter was enabled (committed ones). */
  async changes(): Promise<string> {
    const rows = (await this.db.execute(sql`select changes::text as changes from locator_change_counter`)) as unknown as {
      changes: string;
    }[];
    return rows[0]?.changes ?? '0';
  }

  /** The counter and the held keys, read in one snapshot: the keys are exactly those of that count. */
  snapshot(owner: string): Promise<{ changes: string; keys: { keyVersion: string; key: string }[] }> {
    return this.db.transaction(
      async (tx) => {
        await tx.execute(sql`select set_config('statement_timeout', ${String(this.checkTimeoutMs)}, true)`);
        const changes = (await tx.execute(sql`select changes::text as changes from locator_change_counter`)) as unknown as {
          changes: string;
        }[];
        return { changes: changes[0]?.changes ?? '0', keys: await this.heldKeysIn(tx, owner) };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }
}
