/**
 * The caller's end of the record locator: it keeps a long poll open with each member offering
 * mcx.filter/2, sending the version it holds and `waitMs` (a third of a filter's life, at most
 * MAX_WAIT_MS): the owner answers at once with a new filter, or holds the answer until its filter
 * changes or that time is up, then confirms the version is still current. So a member's change
 * reaches this node as soon as the owner has rebuilt, and an unchanged filter costs one exchange
 * per hold instead of one per MCX_LOCATOR_POLL_MS. Two asks of one member are at least
 * MCX_LOCATOR_POLL_MS apart (a member that changes all the time, or refuses at once, is not asked
 * in a loop). Every answer is verified and kept in memory.
 *
 * Each ask is named in a consultation in this node's audit log, asked as the node itself (one
 * consultation serves the asks that start within MCX_LOCATOR_POLL_MS of it); each member audits
 * the request at its end when it answers, naming this node. A refused filter is not used: the
 * member keeps the previous one, which goes stale and is then asked as if there were no locator.
 *
 * A filter's age is counted from the owner's signed statement of when it last found that version
 * current (mcx-filter-current+jws), never from when this node asked: an owner whose check loop has
 * stopped cannot keep its filter fresh here by answering "not modified". A version lower than the
 * one held is refused (an old filter replayed) unless the owner vouches for it later than for the
 * held one, and so is an answer without a valid statement naming that very filter.
 */
import {
  filterDigest,
  FilterRefusal,
  GEO_GRID,
  PEER_FILTER,
  PeerFilterAnswer,
  verifyFilter,
  verifyFilterCurrent,
  type FilterCheck,
  type VerifiedFilter,
} from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import type { FederationClient } from '../../federation/federation-client.js';
import type { FilterView, HeldFilter } from '../../federation/member-selection.js';
import type { AuditService } from '../audit/audit-service.js';
import { committed } from '../audit/read-audit.js';

/** The longest this node asks an owner to hold an unchanged filter's answer (ms). */
export const MAX_WAIT_MS = 10_000;

/**
 * How long to ask an owner to hold: a third of a filter's life, at most MAX_WAIT_MS. A copy is then
 * confirmed with most of its life left, so a loaded machine's late answers do not make it stale.
 */
export function waitMsFor(maxAgeMs: number): number {
  return Math.min(MAX_WAIT_MS, Math.floor(maxAgeMs / 3));
}

/**
 * The hold to ask for a copy confirmed `ageMs` ago: waitMsFor(maxAge), cut so the answer comes while
 * the copy is still fresh (a margin of a quarter of its life, at most 2 s, for the owner's check and
 * the answer's way back); 0 (answer at once) for a copy that is stale or nearly so, as after a pause.
 */
export function waitMsAt(maxAgeMs: number, ageMs: number): number {
  const margin = Math.min(2000, Math.floor(maxAgeMs / 4));
  return Math.max(0, Math.min(waitMsFor(maxAgeMs), maxAgeMs - ageMs - margin));
}

/** One member's answer, checked; `checkedAt` is when the owner last found the version current (ms, its clock). */
type Checked =
  { notModified: number; checkedAt: number } | { verified: VerifiedFilter; digest: string; checkedAt: number } | { refused: FilterRefusal };

export interface FilterRefresherDeps {
  forceCode: string;
  client: FederationClient;
  holder: TrustManifestHolder;
  audit: AuditService;
  logger: Logger;
  maxFilterBytes: number;
  maxAgeMs: number;
  /** Rounds stop once the node has not searched for this long (0: never); the next search starts them again. */
  idleAfterMs: number;
  now: () => Date;
}

/** The node as its own requester: the locator is the node's business, not an investigator's. */
function asNode(forceCode: string, holder: TrustManifestHolder): AuthorisedRead {
  const orgKind = (holder.member(forceCode)?.kind ?? 'police') as AuthorisedRead['requester']['orgKind'];
  const purpose = 'MISSING_LIVE_SEARCH' as const;
  return {
    viewer: {
      subject: `node:${forceCode}`,
      issuer: `mcx-node:${forceCode}`,
      force: forceCode,
      orgKind,
      roles: ['investigator'],
      tokenKind: 'user',
    },
    requestingNode: null,
    requester: { force: forceCode, orgKind, roles: ['investigator'], purpose },
    purpose,
    caseRef: 'LOCATOR/FILTERS',
  };
}

export class FilterRefresher implements FilterView {
  private readonly held = new Map<string, HeldFilter>();
  /** The last refusal of each member's filter (the operator's view). */
  readonly refusals = new Map<string, FilterRefusal>();
  /** Each member's poll loop while it runs. */
  private readonly loops = new Map<string, Promise<void>>();
  /** Wakes the loops' waits between asks (on stop). */
  private readonly wakers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private pollMs = 0;
  private stopped = true;
  /** When this node last searched through the locator (ms); counted from the start. */
  private searchedAt: number;
  private paused = false;
  /** The consultation that the asks starting within pollMs of `at` name. */
  private consultation: { seq: Promise<number>; at: number } | null = null;

  constructor(private readonly deps: FilterRefresherDeps) {
    this.searchedAt = deps.now().getTime();
  }

  /**
   * A search is choosing members. After a pause (at least MCX_LOCATOR_MAX_AGE_MS, locator-config.ts)
   * the filters nobody confirmed since are stale, so it asks those members; polling starts now, so
   * the searches after it can skip members again. The pause and the resume are logged (their codes).
   */
  noteSearch(): void {
    this.searchedAt = this.now();
    if (!this.paused) return;
    this.paused = false;
    this.deps.logger.info({ code: 'LOCATOR_POLLING_RESUMED' }, 'membership filter polling resumed: this node is searching again');
    this.sync();
  }

  get maxAgeMs(): number {
    return this.deps.maxAgeMs;
  }

  now(): number {
    return this.deps.now().getTime();
  }

  filterOf(member: string): HeldFilter | undefined {
    return this.held.get(member);
  }

  private check(member: string, data: unknown): Checked {
    const parsed = PeerFilterAnswer.safeParse(data);
    if (!parsed.success) return { refused: FilterRefusal.FILTER_MALFORMED };
    const a = parsed.data;
    const { holder } = this.deps;
    const c: FilterCheck = {
      member,
      resolve: holder.keyResolver('audit-checkpoint'),
      ownerOfKid: (kid) => holder.ownerOfKid(kid)?.code,
      maxBytes: this.deps.maxFilterBytes,
      now: this.deps.now(),
    };
    const held = this.held.get(member);
    if (a.notModified) {
      // Only the filter held here can be "not modified": the statement must name it.
      if (!held || held.version !== a.version) return { refused: FilterRefusal.FILTER_UNCONFIRMED };
      const current = verifyFilterCurrent(a.current, { version: held.version, digest: held.digest }, c);
      return 'refused' in current ? current : { notModified: a.version, checkedAt: current.checkedAt };
    }
    const verified = verifyFilter(a.jws, a.bits, c);
    if ('refused' in verified) return verified;
    const current = verifyFilterCurrent(a.current, { version: verified.payload.version, digest: filterDigest(a.jws!) }, c);
    if ('refused' in current) return current;
    // A lower version than the one held is an old filter replayed, unless the owner vouches for it later, by its own clock, than it
    // last vouched for the held one (another replica's build).
    if (held && verified.payload.version < held.version && current.checkedAt <= held.vouchedAt)
      return { refused: FilterRefusal.FILTER_ROLLBACK };
    return { verified, digest: filterDigest(a.jws!), checkedAt: current.checkedAt };
  }

  /** The members offering mcx.filter/2 now (this node too: it asks itself as it asks any member). */
  private serving(): Set<string> {
    return new Set((this.deps.holder.manifest?.members ?? []).filter((m) => m.capabilities.includes(PEER_FILTER.name)).map((m) => m.code));
  }

  /** Nobody has searched here for MCX_LOCATOR_IDLE_AFTER_MS: no member is asked, and none is kept answering this node's polls. */
  private idle(): boolean {
    const { idleAfterMs } = this.deps;
    if (idleAfterMs === 0 || this.now() - this.searchedAt <= idleAfterMs) return false;
    if (!this.paused)
      this.deps.logger.info({ code: 'LOCATOR_POLLING_PAUSED', idleAfterMs }, 'membership filter polling paused: no search for a while');
    this.paused = true;
    return true;
  }

  /**
   * Starts a loop for each serving member that has none (members join with a new manifest, loops
   * end when paused); drops the filters of members that left or no longer offer mcx.filter/2.
   */
  private sync(): void {
    if (this.stopped) return;
    const serving = this.serving();
    for (const member of this.held.keys()) if (!serving.has(member)) this.held.delete(member);
    if (this.paused || this.idle()) return;
    for (const member of serving) {
      if (this.loops.has(member)) continue;
      const loop = this.poll(member).finally(() => this.loops.delete(member));
      this.loops.set(member, loop);
    }
  }

  /** One member's loop: ask (a long poll once a version is held), at least pollMs between asks, until stopped, paused or gone. */
  private async poll(member: string): Promise<void> {
    while (!this.stopped && !this.paused && !this.idle() && this.serving().has(member)) {
      // Measured on the monotonic clock: a wall-clock step cannot make a loop sleep for long.
      const started = performance.now();
      try {
        await this.ask(member);
      } catch (err) {
        if (this.stopped) return;
        this.deps.logger.error({ err, member }, 'membership filter refresh failed');
      }
      const rest = started + this.pollMs - performance.now();
      if (rest > 0) await this.sleep(rest);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.wakers.add(wake);
    });
  }

  /** The consultation an ask starting now names: the last one, if it began within pollMs; else a new one. */
  private consultationSeq(read: AuthorisedRead): Promise<number> {
    const now = this.now();
    if (this.consultation && now - this.consultation.at < this.pollMs) return this.consultation.seq;
    const seq = committed(() =>
      this.deps.audit.record({
        action: 'consultation',
        viewer: read.viewer,
        requestingNode: null,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest: null,
        operation: 'locatorRefresh',
        queryIds: [],
        recordIds: [],
        outcome: 'success',
        reason: 'MEMBERSHIP_FILTERS',
      }),
    ).then((e) => e.seq);
    const mine = { seq, at: now };
    // A consultation that could not be written is not named by the next ask.
    seq.catch(() => {
      if (this.consultation === mine) this.consultation = null;
    });
    this.consultation = mine;
    return seq;
  }

  /** One ask of one member: its filter, or (holding a version) a long poll for a change. */
  private async ask(member: string): Promise<void> {
    const { client, audit, forceCode, holder } = this.deps;
    const read = asNode(forceCode, holder);
    const seq = await this.consultationSeq(read);
    const copy = this.held.get(member);
    const known = copy?.version ?? null;
    const variables = { known, waitMs: copy ? waitMsAt(this.deps.maxAgeMs, this.now() - copy.confirmedAt) : 0 };
    const sent = this.now();
    const asked = await client.askAll<Checked>({
      op: PEER_FILTER,
      field: 'peerFilter',
      variables: (m) => (m === member ? variables : null),
      read,
      callerEntry: `${forceCode}:${seq}`,
      check: (m, data) => ({ value: this.check(m, data), dropped: [], withheld: null }),
    });
    await committed(() => audit.saveReceipts(asked.receipts, seq));
    // An owner that cannot vouch for its filter: the copy held here is not confirmed, and ages.
    for (const m of asked.members.filter((r) => r.reason === 'LOCATOR_STALE')) {
      this.refusals.set(m.member, FilterRefusal.FILTER_OWNER_STALE);
      this.deps.logger.warn({ member: m.member, code: FilterRefusal.FILTER_OWNER_STALE }, 'membership filter refused');
    }
    // Never fresher than when the member's answer arrived, whatever the owner's clock says.
    const arrived = new Map(asked.members.map((m) => [m.member, sent + m.latencyMs]));
    // A member that left the manifest or stopped offering mcx.filter/2 while it was asked: its answer is not kept.
    const serving = this.serving();
    for (const { member: m, value } of asked.values.filter((v) => serving.has(v.member))) {
      const confirmed = (checkedAt: number) => Math.min(checkedAt, arrived.get(m) ?? sent);
      const held = this.held.get(m);
      if ('notModified' in value) {
        if (held && held.version === value.notModified) {
          held.confirmedAt = Math.max(held.confirmedAt, confirmed(value.checkedAt));
          held.vouchedAt = Math.max(held.vouchedAt, value.checkedAt);
        }
        this.refusals.delete(m);
      } else if ('verified' in value) {
        this.held.set(m, {
          filter: value.verified.filter,
          version: value.verified.payload.version,
          digest: value.digest,
          geo: value.verified.payload.geo === GEO_GRID,
          vouchedAt: value.checkedAt,
          confirmedAt: confirmed(value.checkedAt),
        });
        this.refusals.delete(m);
      } else {
        this.refusals.set(m, value.refused);
        this.deps.logger.warn({ member: m, code: value.refused }, 'membership filter refused');
      }
    }
  }

  /** Starts polling: a loop per serving member, and every `everyMs` a look for members that joined (or loops to restart). */
  start(everyMs: number): void {
    this.pollMs = everyMs;
    this.stopped = false;
    this.sync();
    this.timer = setInterval(() => this.sync(), everyMs);
    this.timer.unref();
  }

  /** Stops asking: no new ask starts, waits between asks end; the loops end once their asks in flight do (the caller's fan-out cuts them). */
  halt(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const wake of [...this.wakers]) wake();
  }

  async stop(): Promise<void> {
    this.halt();
    await Promise.all([...this.loops.values()]);
  }
}
