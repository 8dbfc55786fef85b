/**
 * The sending end of alerts, run by the queue's jobs: the cross-match for one outbox row (which
 * members hold strong matches, asked through mcx.holders/1), a signed message per holder, a
 * summary for this node's own inbox and, when the child's episodes across the federation just
 * reached the repeat threshold, a threshold alert to every holder, the placing authority (when a
 * member) and this node; then each message's delivery through mcx.alert/1. Every step is
 * idempotent by derived ids, so a job run twice writes and delivers nothing twice. Both questions
 * are audited here, and the members' receipts kept.
 */
import { MemberReason, PEER_ALERT, PEER_HOLDERS, PeerAlertAnswer, PeerHoldersAnswer, toWireKey, type WireKey } from '@mcx/federation';
import type { TrustManifestHolder } from '@mcx/signing';

import type { FederationClient } from '../../federation/federation-client.js';
import type { AuditService } from '../audit/audit-service.js';
import { committed } from '../audit/read-audit.js';
import type { Discloser } from '../disclosure/disclose.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { RecordService } from '../records/record-service.js';
import type { SubjectService } from '../subject/subject-service.js';
import { alertId as alertIdOf, derivedId } from './alert-message.js';
import type { AlertHolder, AlertThreshold, CrossMatchPayload } from './alert-model.js';
import { admitted, episodeFor, nodeRead, reportedWithin, thresholdCrossed } from './alert-shape.js';
import type { AlertStore } from './alert-store.js';

export interface AlertDispatchDeps {
  forceCode: string;
  store: AlertStore;
  audit: AuditService;
  records: RecordService;
  subjects: SubjectService;
  disclosure: Discloser;
  federation: FederationClient;
  holder: TrustManifestHolder;
  /** The repeat threshold (MCX_REPEAT_THRESHOLD_COUNT in MCX_REPEAT_THRESHOLD_DAYS; default 3 in 90). */
  repeat: { count: number; days: number };
  now: () => Date;
}

/** A job that must run again (the queue retries it with backoff, then dead-letters it). */
export class RetryLater extends Error {}

type Holding = { member: string; value: { matches: { subjectRef: string; episodes: number; recentEpisodes: number }[] } };

/** The most of this node's own episodes of the child counted towards the threshold. */
const MAX_OWN = 500;

export class AlertDispatchService {
  constructor(private readonly deps: AlertDispatchDeps) {}

  /**
   * The cross-match of one outbox row: the deliveries to enqueue, and while a member has not
   * answered, why the job must run again (what was found is kept and goes out meanwhile; the
   * summary and the threshold wait for every member's answer).
   */
  async crossMatch(outboxId: string): Promise<{ deliveries: string[]; retry: string | null }> {
    const { store, records, subjects, federation, audit, forceCode } = this.deps;
    const none = { deliveries: [], retry: null };
    const row = await store.outbox(outboxId);
    if (!row) return none;
    const p = row.payload;
    // Read as any reader would: a restricted, retracted or review-overdue episode alerts nobody.
    const current = await records.read<EpisodeRecord>('episode', p.episodeOwner, p.episodeId);
    if (!current.record) return none;
    const keys = await store.strongKeys(forceCode, p.subjectRef);
    if (keys.length === 0) return none;
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
      // Only members this node's policy admits for the alert's purpose are asked (and so alerted).
      variables: (m) =>
        m === forceCode || !admitted(m, this.deps)
          ? null
          : { keys: keys.map((k) => toWireKey(k as WireKey)), withinDays: this.deps.repeat.days },
      read,
      callerEntry: `${forceCode}:${consultation.seq}`,
      check: (_member, data) => {
        const parsed = PeerHoldersAnswer.safeParse(data);
        return parsed.success ? { value: parsed.data, dropped: [], withheld: null } : { bad: MemberReason.MALFORMED_ANSWER };
      },
    });
    await committed(() => audit.saveReceipts(asked.receipts, consultation.seq));
    const episode = current.record.record;
    const holders: Holding[] = asked.values.flatMap((v) =>
      v.value && v.value.matches.length > 0 && admitted(v.member, this.deps) ? [{ member: v.member, value: v.value }] : [],
    );
    const deliveries: string[] = [];
    for (const h of holders) {
      const refs = h.value.matches.map((m) => m.subjectRef);
      deliveries.push(await this.message('CROSS_MATCH', p, episode, h.member, refs, null));
    }
    const unanswered = asked.members.filter((m) => m.member !== forceCode && m.status !== 'ANSWERED' && m.status !== 'NOT_OFFERED');
    if (unanswered.length > 0) return { deliveries, retry: `not answered: ${unanswered.map((m) => `${m.member}=${m.status}`).join(',')}` };
    await this.summary(p, episode, holders);
    deliveries.push(...(await this.threshold(p, episode, holders)));
    return { deliveries, retry: null };
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
    const id = derivedId('delivery', alertId);
    const signed = this.deps.disclosure.sign({
      schema: 'mcx.alert/1',
      id: alertId,
      kind,
      from: forceCode,
      to: member,
      sentAt: this.deps.now().toISOString(),
      yourSubjectRefs,
      episode: episodeFor(member, episode, this.deps),
      threshold,
    });
    await store.addDelivery({ id, outboxId: derivedId('outbox', forceCode, p.episodeId), recipient: member, ...signed });
    return id;
  }

  /** The publisher's own alert: which members hold the child, with counts; once per episode. */
  private async summary(p: CrossMatchPayload, episode: EpisodeRecord, holders: Holding[]): Promise<void> {
    const counted: AlertHolder[] = holders.map((h) => ({
      member: h.member,
      subjects: h.value.matches.length,
      episodes: h.value.matches.reduce((n, m) => n + m.episodes, 0),
    }));
    await this.ownAlert('CROSS_MATCH_SUMMARY', p, episode, counted, null);
  }

  private async ownAlert(
    kind: 'CROSS_MATCH_SUMMARY' | 'REPEAT_THRESHOLD',
    p: CrossMatchPayload,
    episode: EpisodeRecord,
    holders: AlertHolder[],
    threshold: AlertThreshold | null,
  ): Promise<void> {
    const { forceCode } = this.deps;
    await this.deps.store.addInbox({
      id: alertIdOf(kind, forceCode, p.episodeId, forceCode),
      kind,
      fromNode: forceCode,
      body: { yourSubjectRefs: [p.subjectRef], episode: episodeFor(forceCode, episode, this.deps), holders, threshold },
      bytes: null,
      signature: null,
    });
  }

  /**
   * The repeat threshold across forces: this node's episodes of the child in the window and every
   * holder's. When this episode made the count reach the threshold, every holder, the placing
   * authority (when a member) and this node are alerted, once.
   */
  private async threshold(p: CrossMatchPayload, episode: EpisodeRecord, holders: Holding[]): Promise<string[]> {
    const { repeat, records, forceCode } = this.deps;
    const own = await records.listLocal<EpisodeRecord>('episode', { subjectRef: p.subjectRef, first: MAX_OWN });
    const elsewhere = holders.reduce((n, h) => n + h.value.matches.reduce((k, m) => k + m.recentEpisodes, 0), 0);
    const episodes = reportedWithin(own.nodes, repeat.days, this.deps.now()) + elsewhere;
    if (!thresholdCrossed(episodes, repeat)) return [];
    const threshold = { count: repeat.count, days: repeat.days, episodes };
    const recipients = new Map(holders.map((h) => [h.member, h.value.matches.map((m) => m.subjectRef)]));
    const placing = episode.facts.placingAuthority;
    if (placing && placing !== forceCode && admitted(placing, this.deps) && !recipients.has(placing)) recipients.set(placing, []);
    const deliveries: string[] = [];
    for (const [member, refs] of recipients) deliveries.push(await this.message('REPEAT_THRESHOLD', p, episode, member, refs, threshold));
    await this.ownAlert('REPEAT_THRESHOLD', p, episode, [], threshold);
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
}
