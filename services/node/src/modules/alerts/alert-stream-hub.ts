/**
 * The live alert streams of one node (one replica): the open streams and their caps, and what
 * wakes them. The first stream to open starts a small database handle of its own that LISTENs on
 * mcx_alert_inbox (0016_alert_stream_notify.sql: every insert into the inbox notifies it on
 * commit, on every replica) and a fallback timer; the last to close ends both, so an idle node
 * holds no LISTEN connection and no timer. A wake carries nothing: each stream reads the inbox.
 */
import { sql as q } from 'drizzle-orm';

import { createDb, type DbHandle } from '@mcx/db';
import { McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import { AlertStreamErrorCode, type AlertStreamLease, type AlertStreamReader } from './alert-stream-model.js';

/** The channel 0016_alert_stream_notify.sql notifies. */
export const ALERT_INBOX_CHANNEL = 'mcx_alert_inbox';

export interface AlertStreamHubOptions {
  forceCode: string;
  /** The node's database login; its role and prepare setting, as the node's pool uses them. */
  databaseUrl: string;
  role: string | null;
  prepare: boolean;
  pollMs: number;
  maxStreams: number;
  maxPerUser: number;
  /** Stream opens of one person: a bucket of `openBurst` tokens, refilled at `opensPerMinute`. */
  opensPerMinute: number;
  openBurst: number;
  logger: Logger;
  now?: () => number;
}

/** One open stream's hold on the hub: it wakes on each notification or poll, and at its token's expiry. */
class Lease implements AlertStreamLease {
  private wakes = 0;
  private waiter: (() => void) | null = null;
  private expiry: NodeJS.Timeout | null = null;
  closed = false;
  expired = false;

  constructor(
    private readonly release: (lease: Lease) => void,
    readonly user: string,
    expiresAt: number | null,
  ) {
    if (expiresAt !== null) {
      // A token's expiry ends the stream (the client comes back with a fresh token).
      this.expiry = setTimeout(
        () => {
          this.expired = true;
          this.wake();
        },
        Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1),
      );
    }
  }

  /** How many wakes so far: a reader notes it before reading, and waits only if nothing came since. */
  get version(): number {
    return this.wakes;
  }

  wake(): void {
    this.wakes++;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Resolves at the next wake after `since` (at once if one came already), or when the lease ends. */
  wait(since: number): Promise<void> {
    if (this.closed || this.expired || this.wakes !== since) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Frees the stream's place and its timer; called once the stream ends, whichever way. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    this.release(this);
    this.wake();
  }
}

export class AlertStreamHub {
  private readonly leases = new Set<Lease>();
  private readonly perUser = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private db: DbHandle | null = null;
  private unlisten: (() => Promise<unknown>) | null = null;
  private poll: NodeJS.Timeout | null = null;
  /** Starts and stops of the LISTEN connection, one after another. */
  private lifecycle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: AlertStreamHubOptions) {}

  /** Open streams on this node, and whether it holds a LISTEN connection and a poll timer for them. */
  stats(): { streams: number; connected: boolean; polling: boolean } {
    return { streams: this.leases.size, connected: this.db !== null, polling: this.poll !== null };
  }

  /** Resolves once the LISTEN connection has opened or closed as the streams asked so far need. */
  settled(): Promise<void> {
    return this.lifecycle;
  }

  /**
   * A place for one more stream of `user`, or a refusal when the node or the user already holds
   * as many as allowed. The first place opens the LISTEN connection and the poll.
   */
  open(user: string, expiresAt: number | null): AlertStreamLease {
    if (this.leases.size >= this.opts.maxStreams)
      throw new McxError(AlertStreamErrorCode.ALERT_STREAMS_PER_NODE, `this node serves at most ${this.opts.maxStreams} alert streams`);
    const held = this.perUser.get(user) ?? 0;
    if (held >= this.opts.maxPerUser)
      throw new McxError(AlertStreamErrorCode.ALERT_STREAMS_PER_USER, `one person may hold at most ${this.opts.maxPerUser} alert streams`);
    const lease = new Lease((l) => this.release(l), user, expiresAt);
    this.leases.add(lease);
    this.perUser.set(user, held + 1);
    if (this.leases.size === 1) this.start();
    return lease;
  }

  /**
   * Takes one of `user`'s stream opens (a token bucket per person): false when they opened
   * streams faster than allowed, and should wait `retryAfterSeconds()`.
   */
  takeOpen(user: string): boolean {
    const { opensPerMinute, openBurst } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    const b = this.buckets.get(user) ?? { tokens: openBurst, at: now };
    b.tokens = Math.min(openBurst, b.tokens + ((now - b.at) * opensPerMinute) / 60_000);
    b.at = now;
    // Full buckets are forgotten, so the map holds only people who opened streams lately.
    for (const [k, v] of this.buckets)
      if (k !== user && v.tokens + ((now - v.at) * opensPerMinute) / 60_000 >= openBurst) this.buckets.delete(k);
    if (b.tokens < 1) {
      this.buckets.set(user, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(user, b);
    return true;
  }

  /** Seconds until one more open is allowed to someone whose bucket is empty. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(60 / this.opts.opensPerMinute));
  }

  /**
   * The highest event number in the inbox that `reader` may see (0 when none): another person's
   * WATCH alert does not count, so it wakes no read (and no audit entry) of this reader.
   */
  async lastEventNumber(reader: AlertStreamReader): Promise<number> {
    const db = this.db ?? (await this.lifecycle.then(() => this.db));
    if (!db) throw new McxError(AlertStreamErrorCode.ALERT_STREAM_CLOSED, 'the alert stream has closed');
    const [row] = (await db.db.execute(
      q`select coalesce(max(event_number), 0)::bigint as n from alert_inbox
        where for_user is null or for_user = ${reader.user} or ${reader.everyone}`,
    )) as unknown as {
      n: string | number;
    }[];
    return Number(row?.n ?? 0);
  }

  /** Ends every stream (the node is closing) and waits for the LISTEN connection to close. */
  async close(): Promise<void> {
    for (const lease of [...this.leases]) lease.close();
    await this.lifecycle;
  }

  private release(lease: Lease): void {
    if (!this.leases.delete(lease)) return;
    const held = (this.perUser.get(lease.user) ?? 1) - 1;
    if (held > 0) this.perUser.set(lease.user, held);
    else this.perUser.delete(lease.user);
    if (this.leases.size === 0) this.stop();
  }

  private wakeAll(): void {
    for (const lease of this.leases) lease.wake();
  }

  private start(): void {
    const o = this.opts;
    this.poll = setInterval(() => this.wakeAll(), o.pollMs);
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.leases.size === 0 || this.db) return;
      const db = createDb(o.databaseUrl, { max: 1, applicationName: `mcx-alert-stream-${o.forceCode}`, role: o.role, prepare: o.prepare });
      this.db = db;
      try {
        // Each (re)LISTEN wakes every stream: whatever committed while it was not listening is read.
        const listening = await db.sql.listen(
          ALERT_INBOX_CHANNEL,
          () => this.wakeAll(),
          () => this.wakeAll(),
        );
        this.unlisten = listening.unlisten;
      } catch (err) {
        // The poll still reads the inbox; the next first stream tries again.
        o.logger.warn({ err }, 'the alert stream could not LISTEN; streams read the inbox on the poll only');
      }
    });
  }

  private stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.leases.size > 0 || !this.db) return;
      const db = this.db;
      this.db = null;
      const unlisten = this.unlisten;
      this.unlisten = null;
      await unlisten?.().catch(() => undefined);
      await db.close().catch((err: unknown) => this.opts.logger.warn({ err }, 'the alert stream connection did not close cleanly'));
    });
  }
}
