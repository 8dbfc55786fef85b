/**
 * The owner's end of the record locator: this node's membership filter over the linkage keys it
 * holds, rebuilt whenever they may have changed and served to members through mcx.filter/2.
 *
 * A Bloom filter cannot forget a key, so a change (a new subject, a rekey, a retraction, an
 * erasure) is never patched in: the filter is rebuilt from the keys held now, which also drops
 * what was retracted or erased. The check runs every MCX_LOCATOR_REBUILD_MS and rebuilds when the
 * change counter has moved (every statement writing keys or records bumps it in its own
 * transaction, migration 0019), at most once per check however many writes came in between,
 * and at least every FORCED_REBUILD_MS.
 *
 * Every successful check is signed (mcx-filter-current+jws): "version V was current at T", T taken
 * before the check read anything. Callers count a filter's age from T, so a check loop that has
 * stopped or keeps failing ages every caller's copy instead of vouching for it; past `staleAfterMs`
 * without a successful check the owner refuses to answer at all (LOCATOR_STALE).
 */
import {
  filterItem,
  geoCell,
  MembershipFilter,
  signFilter,
  signFilterCurrent,
  type PeerFilterAnswer,
  type SignedFilter,
} from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { SigningKey } from '@mcx/signing';

import type { LocatorStore } from './locator-store.js';

export interface FilterPublisherDeps {
  forceCode: string;
  store: LocatorStore;
  auditKey: SigningKey<'audit-checkpoint'>;
  logger: Logger;
  now: () => Date;
  /** The longest since the last successful check for which this owner still vouches for its filter. */
  staleAfterMs: number;
}

/** The filter being served, and what it was built from (the operator's view: counts only). */
export interface PublishedFilter extends SignedFilter {
  items: number;
  fill: number;
}

/** Rebuilt at least this often whatever the counter says: a bound on anything the counter could miss (a restore, a write before it counted). */
export const FORCED_REBUILD_MS = 10 * 60_000;

/** How soon a member may download the same version's bits again (a restarted caller waits at most this long). */
export const FULL_REPEAT_MS = 10_000;

/** The longest this node holds a member's long poll (`waitMs`), whatever the member asks. */
export const MAX_HOLD_MS = 20_000;

/** A new version's held polls are answered over this long (ms, at random), not all in one tick: N members' downloads spread out. */
export const RELEASE_SPREAD_MS = 500;

export class FilterPublisher {
  private current: PublishedFilter | null = null;
  /** The last successful check: when it began, and the signed statement that the filter was current then. */
  private checked: { at: Date; statement: string } | null = null;
  /** The change counter the current filter was built at (migration 0019), and when it was built (ms). */
  private changes: bigint | null = null;
  /** The database server run the counter was last read from (pg_postmaster_start_time). */
  private server: string | null = null;
  private builtAt = 0;
  /** null: not counting yet; the first transaction id after counting began (xmax), until every write below it has ended; then settled. */
  private counting: string | 'settled' | null = null;
  /** Each member's last full download (version, ms): the same version again within FULL_REPEAT_MS is refused. */
  private readonly fullDownloads = new Map<string, { version: number; at: number }>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The long polls held now, by member (one each): each ends when the version changes, its time is up, or the node stops. */
  private readonly holds = new Map<string, () => void>();
  private stopped = false;

  constructor(private readonly deps: FilterPublisherDeps) {}

  /** The filter served now; null before the first build. */
  get published(): PublishedFilter | null {
    return this.current;
  }

  /** Rebuilds when the keys may have changed (or nothing is built yet); one check at a time. */
  check(): Promise<void> {
    this.running ??= this.checkOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** When the last successful check began (null before the first). */
  get checkedAt(): Date | null {
    return this.checked?.at ?? null;
  }

  private async checkOnce(): Promise<void> {
    const { store, forceCode, auditKey } = this.deps;
    // Taken before anything is read: a key written during the check may be missing from it.
    const at = this.deps.now();
    if (this.counting === null) this.counting = await store.enableChangeCounter();
    // Writes already under way when counting began bumped nothing: once all of them have ended, one more rebuild takes them in.
    let force = at.getTime() - this.builtAt >= FORCED_REBUILD_MS;
    if (this.counting !== 'settled' && (await store.finishedBelow(this.counting))) {
      this.counting = 'settled';
      force = true;
    }
    // A write whose transaction is still open holds the counter row: its count shows once it commits, and the next check rebuilds.
    const now = await store.changes();
    if (!now.enabled || (this.server !== null && now.server !== this.server) || (this.changes !== null && now.changes < this.changes)) {
      // Counting was turned off, or the counter set back, by a restore or a failover: count again from here, and rebuild.
      this.counting = await store.enableChangeCounter();
      force = true;
    }
    this.server = now.server;
    const unchanged = this.current && now.changes === this.changes;
    const served = this.current?.version;
    if (!unchanged || force) {
      const { changes, keys, points } = await store.snapshot(forceCode);
      // The linkage keys, and the grid cells of the locations of concern (geo-cells.ts in @mcx/federation).
      const items = [...keys.map(filterItem), ...new Set(points.map((p) => filterItem(geoCell(p.lat, p.lon))))];
      const filter = await MembershipFilter.buildYielding(items);
      // Versions only grow, across restarts too: the issue time in ms, or one above the last.
      const version = Math.max((this.current?.version ?? 0) + 1, at.getTime());
      const signed = signFilter(filter, { node: forceCode, version, issuedAt: at, n: items.length, geo: true }, auditKey);
      this.current = { ...signed, items: items.length, fill: filter.fill() };
      this.changes = changes;
      this.builtAt = at.getTime();
    }
    const statement = signFilterCurrent(
      { node: forceCode, version: this.current!.version, jws: this.current!.jws, checkedAt: at },
      auditKey,
    );
    this.checked = { at, statement };
    // A new version ends every hold: its members are answered with it, within RELEASE_SPREAD_MS.
    if (this.current!.version !== served) this.releaseHolds(RELEASE_SPREAD_MS);
  }

  /**
   * A long poll (mcx.filter/2 `waitMs`): waits while `known` is the version served, until it
   * changes, `waitMs` (at most MAX_HOLD_MS) has passed, or the node closes. One hold per member at
   * a time: a member's second request meanwhile is answered at once, so no member can make this
   * node hold more than one request for it. An owner that cannot vouch for its filter now holds
   * nothing: its refusal (LOCATOR_STALE) goes out at once.
   */
  async hold(member: string, known: number, waitMs: number): Promise<void> {
    if (waitMs <= 0 || this.stopped || this.holds.has(member) || this.current?.version !== known) return;
    if (!this.checked || this.deps.now().getTime() - this.checked.at.getTime() > this.deps.staleAfterMs) return;
    await new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        if (this.holds.get(member) === end) this.holds.delete(member);
        resolve();
      };
      const timer = setTimeout(end, Math.min(waitMs, MAX_HOLD_MS));
      this.holds.set(member, end);
    });
  }

  /** Ends every hold (a new version: each at random within `spreadMs`); each is answered with what is served then. */
  releaseHolds(spreadMs = 0): void {
    for (const end of [...this.holds.values()]) {
      if (spreadMs <= 0) end();
      else setTimeout(end, Math.random() * spreadMs).unref();
    }
  }

  /** The node is closing: the polls held are answered now, and none is held from here on (serving goes on while the edge drains). */
  closing(): void {
    this.stopped = true;
    this.releaseHolds();
  }

  /**
   * mcx.filter/2: the filter, or only its version when the caller already holds it, each with the
   * signed statement of the last check; `stale` (answer nothing) when that check is too old.
   */
  async answer(
    member: string,
    known: number | null,
  ): Promise<(PeerFilterAnswer & { current: string }) | { stale: true; checkedAt: Date | null } | { tooFrequent: true }> {
    if (!this.current) await this.check().catch(() => undefined);
    const f = this.current;
    const c = this.checked;
    const now = this.deps.now().getTime();
    if (!f || !c || now - c.at.getTime() > this.deps.staleAfterMs) return { stale: true, checkedAt: c?.at ?? null };
    if (known === f.version) return { version: f.version, notModified: true, jws: null, bits: null, current: c.statement };
    // The bits again, of a version this member already downloaded moments ago: refused, so no member can make this node send megabytes in a loop.
    const last = this.fullDownloads.get(member);
    if (last && last.version === f.version && now - last.at < FULL_REPEAT_MS) return { tooFrequent: true };
    return { version: f.version, notModified: false, jws: f.jws, bits: f.bits, current: c.statement };
  }

  /** A full download was audited and is being sent: the same version to the same member is refused for FULL_REPEAT_MS. */
  delivered(member: string, version: number): void {
    this.fullDownloads.set(member, { version, at: this.deps.now().getTime() });
  }

  start(everyMs: number): void {
    const run = () => void this.check().catch((err: unknown) => this.deps.logger.error({ err }, 'membership filter rebuild failed'));
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.closing();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
