/**
 * The caller's end of the record locator: every MCX_LOCATOR_POLL_MS it asks each member offering
 * mcx.filter/1 for its membership filter, sending the version it holds (a not-modified answer
 * confirms that version is still current), verifies what comes back and keeps it in memory.
 * Each round is one consultation in this node's audit log, asked as the node itself; each
 * member audits the request at its end, naming this node. A refused filter is not used: the
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
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When this node last searched through the locator (ms); counted from the start. */
  private searchedAt: number;
  private paused = false;

  constructor(private readonly deps: FilterRefresherDeps) {
    this.searchedAt = deps.now().getTime();
  }

  /**
   * A search is choosing members. After a pause (at least MCX_LOCATOR_MAX_AGE_MS, locator-config.ts)
   * the filters nobody confirmed since are stale, so it asks those members; a round starts now, so
   * the searches after it can skip members again. The pause and the resume are logged (their codes).
   */
  noteSearch(): void {
    this.searchedAt = this.now();
    if (!this.paused) return;
    this.paused = false;
    this.deps.logger.info({ code: 'LOCATOR_POLLING_RESUMED' }, 'membership filter polling resumed: this node is searching again');
    void this.refresh().catch((err: unknown) => this.deps.logger.error({ err }, 'membership filter refresh failed'));
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

  /** One round over every member; a round still running is joined, not doubled. */
  refresh(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
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

  private async round(): Promise<void> {
    const { client, audit, forceCode, holder, idleAfterMs } = this.deps;
    // Nobody searches here: no member is asked, and none is kept answering this node's polls.
    if (idleAfterMs > 0 && this.now() - this.searchedAt > idleAfterMs) {
      if (!this.paused)
        this.deps.logger.info({ code: 'LOCATOR_POLLING_PAUSED', idleAfterMs }, 'membership filter polling paused: no search for a while');
      this.paused = true;
      return;
    }
    const read = asNode(forceCode, holder);
    const consultation = await committed(() =>
      audit.record({
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
    );
    const sent = this.now();
    const asked = await client.askAll<Checked>({
      op: PEER_FILTER,
      field: 'peerFilter',
      variables: (member) => ({ known: this.held.get(member)?.version ?? null }),
      read,
      callerEntry: `${forceCode}:${consultation.seq}`,
      check: (member, data) => ({ value: this.check(member, data), dropped: [], withheld: null }),
    });
    await committed(() => audit.saveReceipts(asked.receipts, consultation.seq));
    // An owner that cannot vouch for its filter: the copy held here is not confirmed, and ages.
    for (const m of asked.members.filter((r) => r.reason === 'LOCATOR_STALE')) {
      this.refusals.set(m.member, FilterRefusal.FILTER_OWNER_STALE);
      this.deps.logger.warn({ member: m.member, code: FilterRefusal.FILTER_OWNER_STALE }, 'membership filter refused');
    }
    // Never fresher than when the member's answer arrived, whatever the owner's clock says.
    const arrived = new Map(asked.members.map((m) => [m.member, sent + m.latencyMs]));
    for (const { member, value } of asked.values) {
      const confirmed = (checkedAt: number) => Math.min(checkedAt, arrived.get(member) ?? sent);
      const held = this.held.get(member);
      if ('notModified' in value) {
        if (held && held.version === value.notModified) {
          held.confirmedAt = Math.max(held.confirmedAt, confirmed(value.checkedAt));
          held.vouchedAt = Math.max(held.vouchedAt, value.checkedAt);
        }
        this.refusals.delete(member);
      } else if ('verified' in value) {
        this.held.set(member, {
          filter: value.verified.filter,
          version: value.verified.payload.version,
          digest: value.digest,
          geo: value.verified.payload.geo === GEO_GRID,
          vouchedAt: value.checkedAt,
          confirmedAt: confirmed(value.checkedAt),
        });
        this.refusals.delete(member);
      } else {
        this.refusals.set(member, value.refused);
        this.deps.logger.warn({ member, code: value.refused }, 'membership filter refused');
      }
    }
    // A member that left the manifest, or no longer offers mcx.filter/1: its filter is dropped, not kept until restart.
    const serving = new Set(asked.members.filter((m) => m.status !== 'NOT_OFFERED').map((m) => m.member));
    for (const member of this.held.keys()) if (!serving.has(member)) this.held.delete(member);
  }

  start(everyMs: number): void {
    const run = () => void this.refresh().catch((err: unknown) => this.deps.logger.error({ err }, 'membership filter refresh failed'));
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
