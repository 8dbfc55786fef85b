/** The watches table (0012_alerts.sql): SQL only. */
import { sql } from 'drizzle-orm';

import type { Database } from '@mcx/db';

import type { WatchModel } from './alert-model.js';

type Row = Record<string, unknown>;
const iso = (v: unknown) => new Date(v as string).toISOString();

const toWatch = (r: Row): WatchModel => ({
  id: String(r.id),
  subjectRef: String(r.subject_ref),
  purpose: String(r.purpose),
  caseRef: String(r.case_ref),
  createdBy: String(r.created_by),
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
  cancelledAt: r.cancelled_at ? iso(r.cancelled_at) : null,
});

export class WatchStore {
  constructor(private readonly db: Database) {}

  async add(w: Omit<WatchModel, 'cancelledAt' | 'createdAt'>, now: Date): Promise<WatchModel> {
    const rows = (await this.db.execute(
      sql`insert into alert_watches (id, subject_ref, purpose, case_ref, created_by, created_at, expires_at)
          values (${w.id}, ${w.subjectRef}, ${w.purpose}, ${w.caseRef}, ${w.createdBy}, ${now.toISOString()}, ${w.expiresAt}) returning *`,
    )) as unknown as Row[];
    return toWatch(rows[0]!);
  }

  async get(id: string): Promise<WatchModel | null> {
    const rows = (await this.db.execute(sql`select * from alert_watches where id = ${id}`)) as unknown as Row[];
    return rows[0] ? toWatch(rows[0]) : null;
  }

  /** A renewal counts its 90 days from now: the row's created_at moves with it (the check constraint). */
  async renew(id: string, expiresAt: string, now: Date): Promise<WatchModel | null> {
    const rows = (await this.db.execute(
      sql`update alert_watches set created_at = ${now.toISOString()}, expires_at = ${expiresAt}
          where id = ${id} and cancelled_at is null and expires_at > ${now.toISOString()} returning *`,
    )) as unknown as Row[];
    return rows[0] ? toWatch(rows[0]) : null;
  }

  async cancel(id: string, now: Date): Promise<WatchModel | null> {
    const rows = (await this.db.execute(
      sql`update alert_watches set cancelled_at = coalesce(cancelled_at, ${now.toISOString()}) where id = ${id} returning *`,
    )) as unknown as Row[];
    return rows[0] ? toWatch(rows[0]) : null;
  }

  /** Watches running (or with `ended` all), of one creator or (null) of everyone. */
  async list(ended: boolean, now: Date, createdBy: string | null): Promise<WatchModel[]> {
    const rows = (await this.db.execute(
      sql`select * from alert_watches where (${createdBy}::text is null or created_by = ${createdBy})
          and (${ended} or (cancelled_at is null and expires_at > ${now.toISOString()})) order by created_at desc limit 1000`,
    )) as unknown as Row[];
    return rows.map(toWatch);
  }

  /** The watches running now on any of these subjects. */
  async running(subjectRefs: readonly string[], now: Date): Promise<WatchModel[]> {
    if (subjectRefs.length === 0) return [];
    const rows = (await this.db.execute(
      sql`select * from alert_watches where subject_ref = any(${sql.param([...subjectRefs])}::text[])
          and cancelled_at is null and expires_at > ${now.toISOString()} order by created_at`,
    )) as unknown as Row[];
    return rows.map(toWatch);
  }
}
