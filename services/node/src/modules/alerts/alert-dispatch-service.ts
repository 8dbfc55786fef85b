/**
 * The sending end of alerts, run by the queue's jobs: the cross-match for one outbox row (which
 * members hold strong matches, asked through mcx.holders/1), a signed message per holder, a
 * summary for this node's own inbox and, when the child's episodes across the federation just
 * crossed the repeat threshold, a threshold alert to every holder, the placing authority (when a
 * member) and this node; then each message's delivery through mcx.alert/1. Each member's answer
 * is kept, so a retried job asks only the members that have not answered; an answer whose counts
 * are out of range is refused, counted for nothing and its member flagged. The summary and the
 * threshold wait for every member for at most MCX_ALERT_HOLDERS_WAIT_SECONDS, then go out naming
 * those that had not answered. Every step is idempotent by derived ids, so a job run twice writes
 * and delivers nothing twice. Both questions are audited here, and the members' receipts kept.
 */
import {
  MemberReason,
  PEER_ALERT,
  PEER_HOLDERS,
  PeerAlertAnswer,
  PeerHoldersAnswer,
  PeerHoldersShape,
  toWireKey,
  type WireKey,
} from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { SigningKey, TrustManifestHolder } from '@mcx/signing';

import type { FederationClient } from '../../federation/federation-client.js';
import type { AuditService } from '../audit/audit-service.js';
import { committed } from '../audit/read-audit.js';
import type { Discloser } from '../disclosure/disclose.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { RecordService } from '../records/record-service.js';
import type { SubjectService } from '../subject/subject-service.js';
import type { CrossMatchStore, KeptAnswer } from './alert-crossmatch-store.js';
import { alertId as alertIdOf, derivedId, signAlert } from './alert-message.js';
import { AlertErrorCode, type AlertHolder, type AlertThreshold, type CrossMatchPayload } from './alert-model.js';
import { admitted, episodeFor, inWindow, nodeRead, thresholdFor } from './alert-shape.js';
import type { AlertStore } from './alert-store.js';

export interface AlertDispatchDeps {
  forceCode: string;
  store: AlertStore;
  crossMatches: CrossMatchStore;
  audit: AuditService;
  records: RecordService;
  subjects: SubjectService;
  disclosure: Discloser;
  federation: FederationClient;
  holder: TrustManifestHolder;
  /** Signs alert messages (typ mcx-alert+jws). */
  recordKey: SigningKey<'record'>;
  /** The repeat threshold (MCX_REPEAT_THRESHOLD_COUNT in MCX_REPEAT_THRESHOLD_DAYS; default 3 in 90). */
  repeat: { count: number; days: number };
  /** How long the summary and threshold wait for members' answers (MCX_ALERT_HOLDERS_WAIT_SECONDS). */
  holdersWaitMs: number;
  logger?: Logger;
  now: () => Date;
}

/** A job that must run again (the queue retries it with backoff, then dead-letters it). */
export class RetryLater extends Error {}

type Holding = { member: string; value: { matches: KeptAnswer['matches'] } };

/** The most of this node's own episodes of the child counted towards the threshold. */
const MAX_OWN = 500;

export class AlertDispatchService {
  constructor(private readonly deps: AlertDispatchDeps) {}

  /**
   * The cross-match of one outbox row: the deliveries to enqueue, and while a member has not
   * answered, why the job must run again (what was found is kept and goes out meanwhile; the
   * summary and the threshold wait for every member's answer, up to the wait).
   */
  async crossMatch(outboxId: string): Promise<{ deliveries: string[]; retry: string | null }> {
    const { store, crossMatches, records, subjects, federation, audit, forceCode } = this.deps;
    const none = { deliveries: [], retry: null };
    const row = await store.outbox(outboxId);
    if (!row) return none;
    const p = row.payload;
    // Read as any reader would: a restricted, retracted or review-overdue episode alerts nobody.
    const current = await records.read<EpisodeRecord>('episode', p.episodeOwner, p.episodeId);
    if (!current.record) return none;
    const keys = await store.strongKeys(forceCode, p.subjectRef);
    if (keys.length === 0) return none;
    const firstRun = await crossMatches.firstRun(outboxId);
    const kept = await crossMatches.answers(outboxId);
    const answered = new Set(kept.map((a) => a.member));
    const read = nodeRead(forceCode, this.deps.holder, p.episodeId);
    const consultation = await committed(() =>
      audit.record({
        action: 'consultation',
        viewer: read.viewer,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest: subjects.digest(keys),
        operation: 'alertCrossMatch',
        queryIds: [`${p.episodeOwner}/${p.episodeId}`],
        recordIds: [],
        outcome: 'success',
        peerEntryId: p.callerEntry,
      }),
    );
    const asked = await federation.askAll({
      op: PEER_HOLDERS,
      field: 'peerHolders',
      // Only members this node's policy admits for the alert's purpose are asked (and so alerted);
      // a member whose answer is kept from an earlier run is not asked again.
      variables: (m) =>
        m === forceCode || answered.has(m) || !admitted(m, this.deps)
          ? null
          : { keys: keys.map((k) => toWireKey(k as WireKey)), withinDays: this.deps.repeat.days },
      read,
      callerEntry: `${forceCode}:${consultation.seq}`,
      check: (_member, data) => {
        const parsed = PeerHoldersShape.safeParse(data);
        return parsed.success ? { value: parsed.data, dropped: [], withheld: null } : { bad: MemberReason.MALFORMED_ANSWER };
      },
    });
    await committed(() => audit.saveReceipts(asked.receipts, consultation.seq));
    const episode = current.record.record;
    const deliveries: string[] = [];
    for (const v of asked.values) {
      const answer = await this.keep(outboxId, v.member, v.value, read, consultation.seq);
      // Each holder's alert is kept as a delivery before its answer is kept: a run that dies between asks it again.
      if (answer.matches.length > 0 && !answer.refused && admitted(v.member, this.deps))
        await this.message(
          'CROSS_MATCH',
          p,
          episode,
          v.member,
          answer.matches.map((m) => m.subjectRef),
          null,
        );
      await this.deps.crossMatches.keepAnswer(outboxId, answer);
      kept.push(answer);
    }
    const holders: Holding[] = kept.flatMap((a) =>
      a.matches.length > 0 && !a.refused && admitted(a.member, this.deps) ? [{ member: a.member, value: { matches: a.matches } }] : [],
    );
    // Every holder's delivery, this run's and earlier runs' (enqueued by id: once each).
    for (const h of holders) deliveries.push(this.deliveryId('CROSS_MATCH', p, h.member));
    const missing = asked.members
      .filter((m) => m.member !== forceCode && m.status !== 'ANSWERED' && m.status !== 'NOT_OFFERED')
      .map((m) => `${m.member}=${m.status}`);
    const notAnswered = missing.map((m) => m.split('=')[0]!);
    await crossMatches.noteNotAnswered(outboxId, notAnswered);
    // The summary and threshold wait for every member, but no longer than the wait: then they go out without the rest.
    const waited = this.deps.now().getTime() - firstRun.getTime() >= this.deps.holdersWaitMs;
    if ((missing.length === 0 || waited) && !(await crossMatches.summarised(outboxId))) {
      await this.summary(p, episode, holders, notAnswered);
      deliveries.push(...(await this.threshold(p, episode, holders, notAnswered)));
      await crossMatches.markSummarised(outboxId);
    }
    return { deliveries, retry: missing.length > 0 ? `not answered: ${missing.join(',')}` : null };
  }

  /** One member's answer as kept: in range, or refused (audited, the member flagged) and counted for nothing. */
  private async keep(
    outboxId: string,
    member: string,
    value: unknown,
    read: ReturnType<typeof nodeRead>,
    seq: number,
  ): Promise<KeptAnswer> {
    const inRange = PeerHoldersAnswer.safeParse(value);
    if (inRange.success) return { member, matches: inRange.data.matches, refused: null };
    const reason = AlertErrorCode.HOLDERS_OUT_OF_RANGE;
    await this.deps.crossMatches.flag(member, reason);
    await committed(() =>
      this.deps.audit.record({
        action: 'collection',
        viewer: read.viewer,
        requestingNode: member,
        purpose: read.purpose,
        caseRef: read.caseRef,
        operation: 'alertHoldersRefused',
        queryIds: [`outbox/${outboxId}`],
        recordIds: [],
        outcome: 'refused',
        reason,
        peerEntryId: `${this.deps.forceCode}:${seq}`,
      }),
    );
    this.deps.logger?.warn({ member, reason }, 'a member answered mcx.holders/1 out of range: refused and flagged');
    return { member, matches: [], refused: reason };
  }

  private deliveryId(kind: 'CROSS_MATCH' | 'REPEAT_THRESHOLD', p: CrossMatchPayload, member: string): string {
    return derivedId('delivery', alertIdOf(kind, this.deps.forceCode, p.episodeId, member));
  }

  /** One signed message to one member, kept as a delivery (once, by its derived id); returns the delivery's id. */
  private async message(
    kind: 'CROSS_MATCH' | 'REPEAT_THRESHOLD',
    p: CrossMatchPayload,
    episode: EpisodeRecord,
    member: string,
    yourSubjectRefs: string[],
    threshold: AlertThreshold | null,
  ): Promise<string> {
    const { forceCode, store } = this.deps;
    const alertId = alertIdOf(kind, forceCode, p.episodeId, member);
    const id = this.deliveryId(kind, p, member);
    const signed = signAlert(
      {
        schema: 'mcx.alert/1',
        id: alertId,
        kind,
        from: forceCode,
        to: member,
        sentAt: this.deps.now().toISOString(),
        yourSubjectRefs,
        episode: episodeFor(member, episode, this.deps),
        threshold,
      },
      this.deps.recordKey,
    );
    await store.addDelivery({ id, outboxId: derivedId('outbox', forceCode, p.episodeId), recipient: member, ...signed });
    return id;
  }

  /** The publisher's own alert: which members hold the child, with counts, and which had not answered; once per episode. */
  private async summary(p: CrossMatchPayload, episode: EpisodeRecord, holders: Holding[], notAnswered: string[]): Promise<void> {
    const counted: AlertHolder[] = holders.map((h) => ({
      member: h.member,
      subjects: h.value.matches.length,
      episodes: h.value.matches.reduce((n, m) => n + m.episodes, 0),
    }));
    await this.ownAlert('CROSS_MATCH_SUMMARY', p, episode, counted, null, notAnswered);
  }

  private async ownAlert(
    kind: 'CROSS_MATCH_SUMMARY' | 'REPEAT_THRESHOLD',
    p: CrossMatchPayload,
    episode: EpisodeRecord,
    holders: AlertHolder[],
    threshold: AlertThreshold | null,
    notAnswered: string[],
  ): Promise<void> {
    const { forceCode } = this.deps;
    await this.deps.store.addInbox({
      id: alertIdOf(kind, forceCode, p.episodeId, forceCode),
      kind,
      fromNode: forceCode,
      body: { yourSubjectRefs: [p.subjectRef], episode: episodeFor(forceCode, episode, this.deps), holders, threshold, notAnswered },
      bytes: null,
      signature: null,
    });
  }

  /**
   * The repeat threshold across forces: this node's episodes of the child in the window and every
   * holder's. When the count crosses the threshold from below, every holder, the placing authority
   * (when a member) and this node are alerted, once per crossing; each recipient's totals are
   * shaped by this node's policy for its kind, and this node's own alert lists the holders that
   * counted (none with no episode in the window).
   */
  private async threshold(p: CrossMatchPayload, episode: EpisodeRecord, holders: Holding[], notAnswered: string[]): Promise<string[]> {
    const { repeat, records, forceCode } = this.deps;
    const own = await records.listLocal<EpisodeRecord>('episode', { subjectRef: p.subjectRef, first: MAX_OWN });
    const ownInWindow = inWindow(own.nodes, repeat.days, this.deps.now());
    const recent = (h: Holding) => h.value.matches.reduce((k, m) => k + m.recentEpisodes, 0);
    const elsewhere = holders.reduce((n, h) => n + recent(h), 0);
    if (!(await this.deps.crossMatches.crossing(p.subjectRef, ownInWindow.length + elsewhere, repeat.count))) return [];
    const base = { count: repeat.count, days: repeat.days };
    const recipients = new Map(holders.map((h) => [h.member, h.value.matches.map((m) => m.subjectRef)]));
    const placing = episode.facts.placingAuthority;
    if (placing && placing !== forceCode && admitted(placing, this.deps) && !recipients.has(placing)) recipients.set(placing, []);
    const deliveries: string[] = [];
    for (const [member, refs] of recipients) {
      const totals = thresholdFor(member, base, ownInWindow, elsewhere, this.deps);
      deliveries.push(await this.message('REPEAT_THRESHOLD', p, episode, member, refs, totals));
    }
    const counted: AlertHolder[] = holders
      .filter((h) => recent(h) > 0)
      .map((h) => ({ member: h.member, subjects: h.value.matches.length, episodes: recent(h) }));
    await this.ownAlert(
      'REPEAT_THRESHOLD',
      p,
      episode,
      counted,
      thresholdFor(forceCode, base, ownInWindow, elsewhere, this.deps),
      notAnswered,
    );
    return deliveries;
  }

  /**
   * One signed message to its member; audited as a disclosure before it leaves. Throws RetryLater
   * until the member takes it. A message about an episode no longer readable is withheld, not retried.
   */
  async deliver(deliveryId: string): Promise<void> {
    const { store, federation, audit, forceCode } = this.deps;
    const d = await store.delivery(deliveryId);
    if (!d || d.state !== 'pending') return;
    // The episode is read again: restricted, retracted or overdue since the message was signed, it does not leave.
    const outbox = await store.outbox(d.outboxId);
    const current = outbox
      ? await this.deps.records.read<EpisodeRecord>('episode', outbox.payload.episodeOwner, outbox.payload.episodeId)
      : null;
    if (!current?.record) {
      await store.markWithheld(deliveryId, current?.withheld ?? 'NOT_READABLE');
      return;
    }
    const alertId = (JSON.parse(d.bytes) as { id: string }).id;
    const read = nodeRead(forceCode, this.deps.holder, alertId);
    const entry = await committed(() =>
      audit.record({
        action: 'disclosure',
        viewer: read.viewer,
        purpose: read.purpose,
        caseRef: read.caseRef,
        operation: 'alertDelivery',
        queryIds: [],
        recordIds: [`alert/${alertId}`],
        outcome: 'success',
        reason: `TO:${d.recipient}`,
      }),
    );
    const asked = await federation.askAll({
      op: PEER_ALERT,
      field: 'peerAlert',
      variables: (m) => (m === d.recipient ? { alert: { bytes: d.bytes, signature: d.signature } } : null),
      read,
      callerEntry: `${forceCode}:${entry.seq}`,
      check: (_member, data) => {
        const parsed = PeerAlertAnswer.safeParse(data);
        return parsed.success && parsed.data.id === alertId
          ? { value: parsed.data, dropped: [], withheld: null }
          : { bad: MemberReason.MALFORMED_ANSWER };
      },
    });
    await committed(() => audit.saveReceipts(asked.receipts, entry.seq));
    const row = asked.members.find((m) => m.member === d.recipient);
    if (asked.values.length === 1 && row?.status === 'ANSWERED') {
      await store.deliveryAttempt(deliveryId, null);
      return;
    }
    await store.deliveryAttempt(deliveryId, `${row?.status ?? 'NOT_ASKED'}:${row?.reason ?? ''}`);
    throw new RetryLater(`alert not taken by ${d.recipient}: ${row?.status ?? 'NOT_ASKED'}`);
  }

  /** A delivery past its retries: kept as a dead letter for operators. */
  async dead(deliveryId: string): Promise<void> {
    await this.deps.store.markDead(deliveryId);
  }

  /** A cross-match past its retries: kept for operators, naming the members that never answered. */
  async deadCrossMatch(outboxId: string): Promise<void> {
    await this.deps.crossMatches.markDead(outboxId);
  }
}
