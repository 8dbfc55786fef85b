/**
 * The owner's stored link counts of its own associates and when each is next due
 * (0017_associate_link_counts.sql): SQL only. Counts, never which children.
 */
import { sql } from 'drizzle-orm';

import { arrayParam, type Database } from '@mcx/db';

type Row = Record<string, unknown>;

/** One member's count for one associate, and when that member gave it. */
export interface StoredLinkCount {
  associateId: string;
  member: string;
  children: number;
  computedAt: string;
}

const idList = (ids: readonly string[]) => arrayParam(ids, 'text');

export class LinkCountStore {
  constructor(
    private readonly db: Database,
    private readonly owner: string,
  ) {}

  /** The stored counts of these associates, every member's. */
  async counts(ids: readonly string[]): Promise<StoredLinkCount[]> {
    if (ids.length === 0) return [];
    const rows = (await this.db.execute(
      sql`select associate_id, member, children, computed_at from associate_link_counts where associate_id = any(${idList(ids)})`,
    )) as unknown as Row[];
    return rows.map((r) => ({
      associateId: String(r.associate_id),
      member: String(r.member),
      children: Number(r.children),
      computedAt: new Date(r.computed_at as string).toISOString(),
    }));
  }

  /** The members' counts of one recount; a member that did not answer keeps its row as it was. */
  async save(counts: readonly StoredLinkCount[]): Promise<void> {
    if (counts.length === 0) return;
    // Arrays, not a VALUES list: one statement text whatever the number of counts.
    const [ids, members, at] = (['associateId', 'member', 'computedAt'] as const).map((k) =>
      arrayParam(
        counts.map((c) => c[k]),
        'text',
      ),
    );
    const children = arrayParam(
      counts.map((c) => c.children),
      'integer',
    );
    await this.db.execute(
      sql`insert into associate_link_counts (associate_id, member, children, computed_at)
          select * from unnest(${ids}, ${members}, ${children}, ${at}::timestamptz[])
          on conflict (associate_id, member) do update set children = excluded.children, computed_at = excluded.computed_at`,
    );
  }

  /** Makes these associates due now (published, amended, or told something changed). */
  async due(ids: readonly string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(
      sql`insert into associate_link_refresh (associate_id, due_at) select id, ${now.toISOString()}::timestamptz from unnest(${idList(ids)}) as id
          on conflict (associate_id) do update set due_at = excluded.due_at`,
    );
  }

  /**
   * Brings the schedule in line with the associates held here: every active one has a row (a new
   * one is due now), and the rows and counts of one retracted, restricted or erased go.
   */
  async sweep(now: Date): Promise<void> {
    const owner = this.owner;
    await this.db.execute(
      sql`insert into associate_link_refresh (associate_id, due_at)
          select id, ${now.toISOString()} from records where kind = 'associate' and owner = ${owner} and state = 'ACTIVE'
          on conflict (associate_id) do nothing`,
    );
    const gone = sql`not exists (select 1 from records r where r.kind = 'associate' and r.owner = ${owner} and r.state = 'ACTIVE'`;
    await this.db.execute(sql`delete from associate_link_refresh x where ${gone} and r.id = x.associate_id)`);
    await this.db.execute(sql`delete from associate_link_counts x where ${gone} and r.id = x.associate_id)`);
  }

  /** Everything due at once (an explicit "something changed" for every associate). */
  async allDue(now: Date): Promise<void> {
    await this.db.execute(sql`update associate_link_refresh set due_at = ${now.toISOString()}`);
  }

  /**
   * Claims up to `limit` associates due by `dueBy` and not being counted by another replica, until
   * `leaseUntil`: the next batch to count.
   */
  async claim(limit: number, dueBy: Date, now: Date, leaseUntil: Date): Promise<string[]> {
    const at = now.toISOString();
    const rows = (await this.db.execute(
      sql`update associate_link_refresh set leased_until = ${leaseUntil.toISOString()}, attempted_at = ${at}
          where associate_id in (
            select associate_id from associate_link_refresh
            where due_at <= ${dueBy.toISOString()} and (leased_until is null or leased_until < ${at})
            order by due_at limit ${limit} for update skip locked)
          returning associate_id`,
    )) as unknown as Row[];
    return rows.map((r) => String(r.associate_id));
  }

  /**
   * The batch is counted (or given up on for now): next due at `dueAt`, the lease released. One
   * made due again while it was being counted (due after the claim) stays due.
   */
  async done(ids: readonly string[], dueAt: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(
      sql`update associate_link_refresh
          set due_at = case when due_at > attempted_at then due_at else ${dueAt.toISOString()}::timestamptz end, leased_until = null
          where associate_id = any(${idList(ids)})`,
    );
  }
}
