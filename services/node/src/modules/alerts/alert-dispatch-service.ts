/**
 * The sending end of alerts, run by the queue's jobs: the cross-match for one outbox row (which
 * members hold strong matches, asked through mcx.holders/1), a signed message per holder and a
 * summary for this node's own inbox; then each message's delivery through mcx.alert/1. Every
 * step is idempotent by derived ids, so a job run twice writes and delivers nothing twice. Both
 * questions are audited here, and the members' receipts kept.
 */
import type { Viewer } from '@mcx/auth';
import { MemberReason, PEER_ALERT, PEER_HOLDERS, PeerAlertAnswer, PeerHoldersAnswer, toWireKey, type WireKey } from '@mcx/federation';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import type { FederationClient } from '../../federation/federation-client.js';
import type { AuditService } from '../audit/audit-service.js';
import { committed } from '../audit/read-audit.js';
import type { Discloser } from '../disclosure/disclose.js';
import { withholdingRule } from '../disclosure/policy.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { RecordService } from '../records/record-service.js';
import type { SubjectService } from '../subject/subject-service.js';
import { derivedId } from './alert-message.js';
import type { AlertEpisode, AlertHolder, CrossMatchPayload } from './alert-model.js';
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
  now: () => Date;
}

/** A job that must run again (the queue retries it with backoff, then dead-letters it). */
export class RetryLater extends Error {}

const PURPOSE = 'MISSING_LIVE_SEARCH' as const;

export class AlertDispatchService {
  constructor(private readonly deps: AlertDispatchDeps) {}

  /** The node itself, acting for the alert: its own organisation, never a person's. */
  private read(episodeId: string): AuthorisedRead {
    const { forceCode, holder } = this.deps;
    const orgKind = (holder.member(forceCode)?.kind ?? 'police') as Viewer['orgKind'];
    const viewer: Viewer = {
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
      caseRef: `ALERT/${episodeId}`,
    };
  }

  /**
   * The cross-match of one outbox row: the deliveries to enqueue, and while a member has not
   * answered, why the job must run again (what was found is kept and goes out meanwhile).
   */
  async crossMatch(outboxId: string): Promise<{ deliveries: string[]; retry: string | null }> {
    const { store, records, subjects, federation, audit, forceCode } = this.deps;
    const row = await store.outbox(outboxId);
    const none = { deliveries: [], retry: null };
    if (!row) return none;
    const p = row.payload;
    const current = await records.load<EpisodeRecord>('episode', p.episodeOwner, p.episodeId);
    if (current.status !== 'ok') return none;
    const keys = await store.strongKeys(forceCode, p.subjectRef);
    if (keys.length === 0) return none;
    const read = this.read(p.episodeId);
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
      variables: (m) => (m === forceCode ? null : { keys: keys.map((k) => toWireKey(k as WireKey)) }),
      read,
      callerEntry: `${forceCode}:${consultation.seq}`,
      check: (_member, data) => {
        const parsed = PeerHoldersAnswer.safeParse(data);
        return parsed.success ? { value: parsed.data, dropped: [], withheld: null } : { bad: MemberReason.MALFORMED_ANSWER };
      },
    });
    await committed(() => audit.saveReceipts(asked.receipts, consultation.seq));
    const episode = current.stored.record;
    const holders = asked.values.flatMap((v) => (v.value && v.value.matches.length > 0 ? [{ member: v.member, value: v.value }] : []));
    const deliveries: string[] = [];
    for (const h of holders) {
      const id = derivedId('delivery', outboxId, h.member);
      const message = {
        schema: 'mcx.alert/1',
        id: derivedId('alert', outboxId, h.member),
        kind: 'CROSS_MATCH',
        from: forceCode,
        to: h.member,
        sentAt: this.deps.now().toISOString(),
        yourSubjectRefs: h.value.matches.map((m) => m.subjectRef),
        episode: this.shapeFor(h.member, episode),
      };
      const signed = this.deps.disclosure.sign(message);
      await store.addDelivery({ id, outboxId, recipient: h.member, bytes: signed.bytes, signature: signed.signature });
      deliveries.push(id);
    }
    const unanswered = asked.members.filter((m) => m.member !== forceCode && m.status !== 'ANSWERED' && m.status !== 'NOT_OFFERED');
    if (unanswered.length > 0) return { deliveries, retry: `not answered: ${unanswered.map((m) => `${m.member}=${m.status}`).join(',')}` };
    await this.summary(outboxId, p, episode, holders);
    return { deliveries, retry: null };
  }

  /** The publisher's own alert: which members hold the child, with counts; once per outbox row. */
  private async summary(
    outboxId: string,
    p: CrossMatchPayload,
    episode: EpisodeRecord,
    holders: { member: string; value: { matches: { episodes: number }[] } }[],
  ): Promise<void> {
    const counted: AlertHolder[] = holders.map((h) => ({
      member: h.member,
      subjects: h.value.matches.length,
      episodes: h.value.matches.reduce((n, m) => n + m.episodes, 0),
    }));
    await this.deps.store.addInbox({
      id: derivedId('alert', outboxId, this.deps.forceCode),
      kind: 'CROSS_MATCH_SUMMARY',
      fromNode: this.deps.forceCode,
      body: { yourSubjectRefs: [p.subjectRef], episode: this.shapeFor(this.deps.forceCode, episode), holders: counted },
      bytes: null,
      signature: null,
    });
  }

  /** The episode as the owner's policy lets `member`'s investigators see it: withheld, it is a pointer with the owner's contact. */
  private shapeFor(member: string, e: EpisodeRecord): AlertEpisode {
    const { disclosure, holder, forceCode } = this.deps;
    const orgKind = (holder.member(member)?.kind ?? 'police') as Viewer['orgKind'];
    const rule = withholdingRule(
      disclosure.policy,
      { force: member, orgKind, roles: ['investigator'], purpose: PURPOSE },
      { kind: 'episode', owner: forceCode, grading: e.grading },
    );
    const contact24x7 = disclosure.contactOf(forceCode);
    if (rule) return { owner: forceCode, id: e.id, ownerReference: null, contact24x7, riskGrade: null, reportedAt: null };
    return {
      owner: forceCode,
      id: e.id,
      ownerReference: e.ownerReference,
      contact24x7,
      riskGrade: e.assessment.riskGrade,
      reportedAt: e.facts.reportedAt,
    };
  }

  /** One signed message to its member; audited as a disclosure before it leaves. Throws RetryLater until the member takes it. */
  async deliver(deliveryId: string): Promise<void> {
    const { store, federation, audit, forceCode } = this.deps;
    const d = await store.delivery(deliveryId);
    if (!d || d.state !== 'pending') return;
    const alertId = (JSON.parse(d.bytes) as { id: string }).id;
    const read = this.read(alertId);
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
