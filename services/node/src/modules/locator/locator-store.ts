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

  /**
   * Where this owner holds a location of concern that is not retracted (readable, restricted or
   * past review: mcx.locations/1 reports withheld ones too): the points whose grid cells the filter
   * marks. The columns only place a record on the coarse grid; what is answered is decided from
   * its verified bytes, as before.
   */
  private async locationPointsIn(db: Pick<Database, 'execute'>, owner: string): Promise<{ lat: number; lon: number }[]> {
    return (await db.execute(sql`
      select distinct r.lat, r.lon from records r
      where r.owner = ${owner} and r.kind = 'location_of_concern' and r.state <> 'RETRACTED'
        and r.lat is not null and r.lon is not null`)) as unknown as { lat: number; lon: number }[];
  }

  /**
   * Makes writes count (migration 0019): until a node serves a filter, the change counter takes no
   * lock. Returns the first transaction id not yet started once that is committed: a write whose
   * trigger ran before it bumped nothing, and has ended once every transaction below that id has
   * (see `finishedBelow`).
   */
  async enableChangeCounter(): Promise<string> {
    await this.db.execute(sql`update locator_change_counter set enabled = true where id and not enabled`);
    const rows = (await this.db.execute(sql`select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`)) as unknown as {
      xmax: string;
    }[];
    return rows[0]!.xmax;
  }

  /** True once no transaction with an id below `xid` is still running. */
  async finishedBelow(xid: string): Promise<boolean> {
    const rows = (await this.db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot()) >= ${xid}::xid8 as done`)) as unknown as {
      done: boolean;
    }[];
    return rows[0]?.done === true;
  }

  /**
   * The counter as committed now: how many statements have written keys or records since counting
   * began, whether counting is on (a restore can turn it off), and which server run this is (a
   * restore or failover can set the counter back).
   */
  async changes(): Promise<{ changes: bigint; enabled: boolean; server: string }> {
    const rows = (await this.db.execute(
      sql`select changes::text as changes, enabled, pg_postmaster_start_time()::text as server from locator_change_counter`,
    )) as unknown as { changes: string; enabled: boolean; server: string }[];
    const r = rows[0];
    return { changes: BigInt(r?.changes ?? '0'), enabled: r?.enabled === true, server: r?.server ?? '' };
  }

  /** The counter, the held keys and the location points, read in one snapshot: exactly those of that count. */
  snapshot(
    owner: string,
  ): Promise<{ changes: bigint; keys: { keyVersion: string; key: string }[]; points: { lat: number; lon: number }[] }> {
    return this.db.transaction(
      async (tx) => {
        await tx.execute(sql`select set_config('statement_timeout', ${String(this.checkTimeoutMs)}, true)`);
        const changes = (await tx.execute(sql`select changes::text as changes from locator_change_counter`)) as unknown as {
          changes: string;
        }[];
        const keys = await this.heldKeysIn(tx, owner);
        return { changes: BigInt(changes[0]?.changes ?? '0'), keys, points: await this.locationPointsIn(tx, owner) };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }
}
