/**
 * The cross-match's own state (0015_alert_event_counter.sql): each member's mcx.holders/1 answer
 * (so a retried job asks only those that have not answered), when the job first ran, when its
 * summary went out and whom it went without, dead cross-matches, the threshold's last state per
 * child, members flagged for operators, and the per-member quota on incoming alerts. SQL only.
 */
import { sql } from 'drizzle-orm';

import type { Database } from '@mcx/db';

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export type HolderMatch = { subjectRef: string; episodes: number; recentEpisodes: number };

/** A member's kept answer: its matches, or why it was refused (then it counts for nothing). */
export interface KeptAnswer {
  member: string;
  matches: HolderMatch[];
  refused: string | null;
}

export class CrossMatchStore {
  constructor(private readonly db: Database) {}

  /** When the job for this outbox row first ran (set now on the first run). */
  async firstRun(outboxId: string): Promise<Date> {
    const [r] = (await this.db.execute(
      sql`update alert_outbox set first_run_at = coalesce(first_run_at, now()) where id = ${outboxId} returning first_run_at`,
    )) as unknown as Row[];
    return new Date((r?.first_run_at as string | undefined) ?? Date.now());
  }

  async answers(outboxId: string): Promise<KeptAnswer[]> {
    const rows = (await this.db.execute(
      sql`select member, matches, refused from alert_crossmatch_answers where outbox_id = ${outboxId} order by member`,
    )) as unknown as Row[];
    return rows.map((r) => ({
      member: String(r.member),
      matches: (r.matches as HolderMatch[] | null) ?? [],
      refused: (r.refused as string | null) ?? null,
    }));
  }

  /** Keeps one member's answer, once (a second answer from the same member changes nothing). */
  async keepAnswer(outboxId: string, a: KeptAnswer): Promise<void> {
    await this.db.execute(
      sql`insert into alert_crossmatch_answers (outbox_id, member, matches, refused)
          values (${outboxId}, ${a.member}, ${a.refused ? null : JSON.stringify(a.matches)}::jsonb, ${a.refused}) on conflict do nothing`,
    );
  }

  /** Marks the summary as gone out; true only for the first call. */
  async markSummarised(outboxId: string): Promise<boolean> {
    const rows = (await this.db.execute(
      sql`update alert_outbox set summarised_at = now() where id = ${outboxId} and summarised_at is null returning id`,
    )) as unknown as Row[];
    return rows.length === 1;
  }

  async summarised(outboxId: string): Promise<boolean> {
    const [r] = (await this.db.execute(sql`select summarised_at from alert_outbox where id = ${outboxId}`)) as unknown as Row[];
    return Boolean(r?.summarised_at);
  }

  /** The members that have not answered yet (none: null), as of this run. */
  async noteNotAnswered(outboxId: string, members: string[]): Promise<void> {
    await this.db.execute(sql`update alert_outbox set not_answered = ${members.join(',') || null} where id = ${outboxId}`);
  }

  /** A cross-match past its retries: kept for operators, with the members that never answered (as its last run left them). */
  async markDead(outboxId: string): Promise<void> {
    await this.db.execute(sql`update alert_outbox set dead_at = coalesce(dead_at, now()) where id = ${outboxId}`);
  }

  /**
   * Records the child's count against the threshold; true only when it crosses from below to at
   * or above (once per crossing: at or above again is no crossing; back below arms the next one).
   * A child seen here for the first time was below only if the count without this episode was.
   */
  async crossing(subjectRef: string, episodes: number, threshold: number): Promise<boolean> {
    const reached = episodes >= threshold;
    const rows = (await this.db.execute(
      sql`insert into alert_threshold_state (subject_ref, reached, episodes) values (${subjectRef}, ${reached}, ${episodes})
          on conflict (subject_ref) do update set reached = excluded.reached, episodes = excluded.episodes, changed_at = now()
          where alert_threshold_state.reached is distinct from excluded.reached
          returning reached, (xmax = 0) as inserted`,
    )) as unknown as Row[];
    const r = rows[0];
    if (!r || r.reached !== true) return false;
    return r.inserted !== true || episodes - 1 < threshold;
  }

  async flag(member: string, reason: string): Promise<void> {
    await this.db.execute(sql`insert into alert_member_flags (member, reason) values (${member}, ${reason})`);
  }

  /**
   * Counts one incoming alert against its sender's quota for this minute; the count so far.
   * Windows older than an hour are pruned now and then.
   */
  async countInbound(member: string): Promise<number> {
    const [r] = (await this.db.execute(
      sql`insert into alert_inbound_quota (member, window_start, n) values (${member}, date_trunc('minute', now()), 1)
          on conflict (member, window_start) do update set n = alert_inbound_quota.n + 1 returning n`,
    )) as unknown as Row[];
    const n = Number(r?.n ?? 0);
    if (n === 1) await this.db.execute(sql`delete from alert_inbound_quota where window_start < now() - interval '1 hour'`);
    return n;
  }

  /** For operators: dead cross-matches and recent flags, newest first. */
  async status(limit: number) {
    const dead = (await this.db.execute(
      sql`select id, payload->>'episodeId' as episode_id, not_answered, dead_at from alert_outbox
          where dead_at is not null order by dead_at desc limit ${limit}`,
    )) as unknown as Row[];
    const flags = (await this.db.execute(
      sql`select member, reason, at from alert_member_flags order by at desc limit ${limit}`,
    )) as unknown as Row[];
    return {
      deadCrossMatches: dead.map((r) => ({
        id: String(r.id),
        episodeId: String(r.episode_id),
        notAnswered: r.not_answered ? String(r.not_answered).split(',') : [],
        deadAt: iso(r.dead_at),
      })),
      flaggedMembers: flags.map((r) => ({ member: String(r.member), reason: String(r.reason), at: iso(r.at)! })),
    };
  }
}
