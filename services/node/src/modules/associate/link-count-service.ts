/**
 * The cross-force link counts of this node's own associates, kept fresh in the background so that
 * a child's history answers from what the owner holds and never waits for a nested fan-out.
 *
 * The owner alone holds its associates' linkage keys, so it asks every member itself
 * (mcx.associateLinks/1, as itself, audited like any read): how many children each links to each
 * associate. Each member's count is stored with the time it was given. An associate is counted
 * again when it is published or amended, when the owner is told something changed (`changed`),
 * and at least every MCX_LINK_COUNTS_REFRESH_SECONDS; this is also how an owner learns of a
 * member's new episode or associate that links to it (a member cannot tell which owner's
 * associate its new record matches without that owner's keys). A member that does not answer
 * keeps its old count, with its old time, and the batch is tried again after
 * MCX_LINK_COUNTS_RETRY_SECONDS. Associates go to members in batches of MCX_LINK_COUNTS_BATCH,
 * one batch at a time: one request per member per batch.
 */
import { PEER_ASSOCIATE_LINKS, toWireKey, type AssociateLinkCounts } from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import { checkLinks } from '../../federation/answer-checks.js';
import type { FederationClient } from '../../federation/federation-client.js';
import type { LinkCountsConfig } from '../../history-config.js';
import type { AuditService } from '../audit/audit-service.js';
import { committed } from '../audit/read-audit.js';
import type { SubjectService } from '../subject/subject-service.js';
import type { LinkCountStore, StoredLinkCount } from './link-count-store.js';

/** The purpose the owner asks for: the counts serve the child's history on a live search. */
const PURPOSE = 'MISSING_LIVE_SEARCH' as const;
/** How long a replica may hold a batch before another may count it. */
const LEASE_MS = 60_000;
/** The longest between two looks at what is due (shorter when the refresh interval is). */
const MAX_TICK_MS = 60_000;

export interface LinkCountDeps {
  forceCode: string;
  store: LinkCountStore;
  /** null: this node is not federated, and counts nothing. */
  federation: FederationClient | null;
  holder: TrustManifestHolder | null;
  subjects: Pick<SubjectService, 'associateKeys' | 'digest'>;
  audit: AuditService;
  settings: LinkCountsConfig;
  logger: Logger;
  now: () => Date;
}

/** What one recount did: the associates counted, and the members from which some count is missing (kept as it was). */
export interface RecountOutcome {
  counted: number;
  missing: string[];
}

export class LinkCountService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RecountOutcome> | null = null;
  /** An explicit recount is under way: the timer starts none meanwhile. */
  private holding = 0;
  private lastSweep = 0;

  constructor(private readonly deps: LinkCountDeps) {}

  /**
   * The stored counts of these associates (held here), as a member's answer carries them: each
   * member's count with the time it was given. `complete` is true only when every member of the
   * manifest has given one; an associate with no count at all has no `byForce` entry.
   */
  async counts(ids: readonly string[]): Promise<AssociateLinkCounts[]> {
    const { store, forceCode, holder } = this.deps;
    if (ids.length === 0) return [];
    const members = new Set((holder?.manifest?.members ?? []).map((m) => m.code));
    const rows = (await store.counts(ids)).filter((r) => members.has(r.member));
    return ids.map((id) => {
      const mine = rows.filter((r) => r.associateId === id);
      return {
        owner: forceCode,
        id,
        byForce: mine
          .map((r) => ({ force: r.member, children: r.children, asOf: r.computedAt }))
          .sort((a, b) => a.force.localeCompare(b.force)),
        complete: members.size > 0 && mine.length === members.size,
      };
    });
  }

  /** Associates published or amended here: counted again soon, in the background. */
  async touched(ids: readonly string[]): Promise<void> {
    if (!this.deps.federation || ids.length === 0) return;
    await this.deps.store.due(ids, this.deps.now());
    this.poke();
  }

  /**
   * Told that something changed (every associate, or those named): counted again now. Resolves
   * when the recount has run.
   */
  async changed(ids?: readonly string[]): Promise<RecountOutcome> {
    const { store } = this.deps;
    if (!this.deps.federation) return { counted: 0, missing: [] };
    this.holding += 1;
    try {
      while (this.running) await this.running.catch(() => undefined);
      await store.sweep(this.deps.now());
      this.lastSweep = Date.now();
      if (ids) await store.due(ids, this.deps.now());
      else await store.allDue(this.deps.now());
      return await this.recount();
    } finally {
      this.holding -= 1;
    }
  }

  /** Counts every associate that is due, batch by batch; one recount at a time in this process. */
  recount(): Promise<RecountOutcome> {
    if (!this.running) {
      this.running = this.recountDue().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  start(): void {
    if (!this.deps.federation || this.timer) return;
    // Due associates are found within a quarter of the interval (or the retry time, if shorter).
    const { refreshSeconds, retrySeconds } = this.deps.settings;
    const tick = Math.min(MAX_TICK_MS, (refreshSeconds * 1000) / 4, retrySeconds * 1000);
    this.timer = setInterval(() => this.poke(), tick);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private poke(): void {
    if (!this.timer || this.holding > 0) return;
    void this.recount().catch((err: unknown) => this.deps.logger.error({ err }, 'link count recount failed'));
  }

  private async recountDue(): Promise<RecountOutcome> {
    const { store, settings } = this.deps;
    // New associates get a row, and those no longer held lose theirs, at least once an interval.
    if (Date.now() - this.lastSweep >= settings.refreshSeconds * 1000) {
      await store.sweep(this.deps.now());
      this.lastSweep = Date.now();
    }
    const outcome: RecountOutcome = { counted: 0, missing: [] };
    // Only what was due when the pass began: one tried again soon after a member failed waits for the next pass.
    const began = this.deps.now();
    for (;;) {
      const now = this.deps.now();
      const batch = await store.claim(settings.batch, began, now, new Date(now.getTime() + LEASE_MS));
      if (batch.length === 0) return outcome;
      const { counted, missing } = await this.countBatch(batch);
      outcome.counted += counted;
      outcome.missing = [...new Set([...outcome.missing, ...missing])].sort();
    }
  }

  /** One batch: one audited question to every member, each answer stored as it is; the batch's next time. */
  private async countBatch(ids: string[]): Promise<RecountOutcome> {
    const { store, settings, subjects } = this.deps;
    const withKeys = [];
    for (const id of ids) {
      const keys = await subjects.associateKeys(id);
      if (keys.length > 0) withKeys.push({ id, keys });
    }
    const started = this.deps.now();
    const next = (seconds: number) => new Date(started.getTime() + seconds * 1000);
    // An associate with no linkage keys cannot be counted by anyone: it stays without a count.
    if (withKeys.length === 0) {
      await store.done(ids, next(settings.refreshSeconds));
      return { counted: 0, missing: [] };
    }
    try {
      const answer = await this.ask(withKeys);
      await store.save(answer.counts);
      await store.done(ids, next(answer.missing.length > 0 ? settings.retrySeconds : settings.refreshSeconds));
      return { counted: withKeys.length, missing: answer.missing };
    } catch (err) {
      // Nothing asked or nothing kept (the audit log cannot be written): the old counts stay; try again later.
      await store.done(ids, next(settings.retrySeconds));
      throw err;
    }
  }

  /** mcx.associateLinks/1 to every member, as this node, for one batch; audited before anyone is asked. */
  private async ask(associates: { id: string; keys: Awaited<ReturnType<SubjectService['associateKeys']>> }[]) {
    const { forceCode, audit, subjects } = this.deps;
    const federation = this.deps.federation!;
    const read = this.nodeRead();
    const refs = associates.map((a) => `${forceCode}/${a.id}`);
    const consultation = await committed(() =>
      audit.record({
        action: 'consultation',
        viewer: read.viewer,
        requestingNode: null,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest: subjects.digest(associates.flatMap((a) => a.keys)),
        operation: 'associateLinks',
        queryIds: refs,
        recordIds: [],
        outcome: 'success',
        reason: 'LINK_COUNTS_REFRESH',
      }),
    );
    const asked = new Set(refs);
    const out = await federation.askAll({
      op: PEER_ASSOCIATE_LINKS,
      field: 'peerAssociateLinks',
      variables: { associates: associates.map((a) => ({ owner: forceCode, id: a.id, keys: a.keys.map(toWireKey) })), exclude: [] },
      read,
      callerEntry: `${forceCode}:${consultation.seq}`,
      check: (_member, data) => checkLinks(data, asked),
    });
    // The members' receipts are part of this node's audit: without them, nothing is kept.
    await committed(() => audit.saveReceipts(out.receipts, consultation.seq));
    const computedAt = this.deps.now().toISOString();
    const counts: StoredLinkCount[] = out.values.flatMap((v) =>
      v.value.map((l) => ({ associateId: l.id, member: v.member, children: l.children, computedAt })),
    );
    // A member that did not answer, or left out a count asked for, keeps its old one: tried again sooner.
    const given = new Set(counts.map((c) => `${c.member}/${c.associateId}`));
    const missing = out.members
      .filter((m) => m.status !== 'ANSWERED' || associates.some((a) => !given.has(`${m.member}/${a.id}`)))
      .map((m) => m.member);
    return { counts, missing };
  }

  /** This node asking about its own associates, as itself: its own organisation and kind, never a person's. */
  private nodeRead(): AuthorisedRead {
    const { forceCode, holder } = this.deps;
    const orgKind = (holder?.member(forceCode)?.kind ?? 'police') as AuthorisedRead['viewer']['orgKind'];
    const viewer: AuthorisedRead['viewer'] = {
      subject: `node:${forceCode}`,
      issuer: `mcx-node:${forceCode}`,
      force: forceCode,
      orgKind,
      roles: ['investigator'],
      tokenKind: 'user',
    };
    return {
      viewer,
      requestingNode: null,
      requester: { force: forceCode, orgKind, roles: viewer.roles, purpose: PURPOSE },
      purpose: PURPOSE,
      caseRef: `LINK-COUNTS/${forceCode}`,
    };
  }
}
