/**
 * Alerts as a node's users and members meet them: the outbox written inside an OPEN episode's
 * own transaction, the inbox read and acknowledged (audited), a member's signed alert stored
 * once (audited), and a member's cross-match question answered with references and counts only
 * (shaped by this node's policy for the caller, audited).
 */
import { McxError } from '@mcx/errors';
import { MAX_HOLDER_EPISODES, type AlertMessage } from '@mcx/federation';
import type { TrustManifestHolder } from '@mcx/signing';

import type { MissingEpisodeInput } from '../../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { AuditService } from '../audit/audit-service.js';
import { auditConsultation, committed } from '../audit/read-audit.js';
import type { Discloser } from '../disclosure/disclose.js';
import { shapeByPolicy } from '../disclosure/shape-by-policy.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { RecordService } from '../records/record-service.js';
import type { InTx } from '../records/record-store-model.js';
import type { SubjectService } from '../subject/subject-service.js';
import type { CrossMatchStore } from './alert-crossmatch-store.js';
import { derivedId, readAlertMessage } from './alert-message.js';
import { AlertErrorCode, type AlertModel } from './alert-model.js';
import { alertSeenBy, ownerOf } from './alert-owner.js';
import { reportedWithin } from './alert-shape.js';
import type { AlertStore } from './alert-store.js';
import type { WatchService } from './watch-service.js';
import type { WatchStore } from './watch-store.js';

/** The most episodes one matched subject is counted over (a caller refuses an answer above it). */
const MAX_COUNTED = MAX_HOLDER_EPISODES;

export interface AlertServiceDeps {
  forceCode: string;
  store: AlertStore;
  audit: AuditService;
  records: RecordService;
  subjects: SubjectService;
  disclosure: Discloser;
  holder: TrustManifestHolder | null;
  now: () => Date;
  watchStore: WatchStore;
  watches: WatchService;
  crossMatches: CrossMatchStore;
  /** Incoming mcx.alert/1: the per-member quota per minute, and the oldest and furthest-ahead sentAt taken. */
  limits: { inboundPerMinute: number; maxAgeMs: number; skewMs: number };
  /** Wakes the outbox relay after a commit (the relay also polls). */
  poke?: () => void;
}

/** The peer call a member's request runs in: the caller's entry, and this node's disclosure entry once written. */
export interface PeerCallState {
  callerEntry: string;
  entry: { id: string; hash: string } | null;
}

export class AlertService {
  constructor(private readonly deps: AlertServiceDeps) {}

  /** Watches on this node's children (watchChild, renewWatch, cancelWatch, watches). */
  get watches(): WatchService {
    return this.deps.watches;
  }

  /** Whether this node takes part in alerts: federated, and offering mcx.alert/1 in the manifest. */
  get enabled(): boolean {
    return this.deps.holder?.member(this.deps.forceCode)?.capabilities.includes('mcx.alert/1') ?? false;
  }

  /**
   * Wraps a write's audit: inside the same transaction, after its entry, an OPEN episode that was
   * stored (not an unchanged retry) with a subject gets its outbox row. All three commit together.
   */
  outboxWriter(audit: InTx, inputs: readonly MissingEpisodeInput[]): InTx {
    if (!this.enabled) return audit;
    return async (tx, stored) => {
      const entry = (await audit(tx, stored)) as { seq?: number } | undefined;
      const callerEntry = typeof entry?.seq === 'number' ? `${this.deps.forceCode}:${entry.seq}` : null;
      const written = new Set(stored);
      for (const input of inputs) {
        if (input.status !== 'OPEN' || !input.subjectRef || !input.id || typeof input.version !== 'number') continue;
        if (!written.has(`${this.deps.forceCode}/${input.id}`)) continue;
        const payload = {
          episodeOwner: this.deps.forceCode,
          episodeId: input.id,
          episodeVersion: input.version,
          subjectRef: input.subjectRef,
          callerEntry,
        };
        // One outbox row per episode: an amendment of an open episode alerts nobody again.
        await this.deps.store.addOutbox(tx, derivedId('outbox', this.deps.forceCode, input.id), payload);
      }
      setImmediate(() => this.deps.poke?.());
      return entry;
    };
  }

  /**
   * This node's alerts after an event number, oldest first: the node's own and the reader's own
   * WATCH alerts (an auditor sees every user's, read only), owners and acknowledgers as the reader
   * may see them (alertSeenBy); the consultation is audited before release.
   */
  async list(read: AuthorisedRead, after: number, first: number): Promise<{ nodes: AlertModel[]; lastEventNumber: number }> {
    const reader = { user: ownerOf(read.viewer), everyone: read.auditsThisNode === true };
    const page = await this.deps.store.inbox(after, first, reader);
    const ids = page.nodes.map((a) => `alert/${a.id}`);
    await auditConsultation(this.deps.audit, read, 'alerts', [], ids, null);
    return { nodes: page.nodes.map((a) => alertSeenBy(a, read)), lastEventNumber: page.last };
  }

  /**
   * For operators: the outbox depth, the deliveries pending, the dead letters and dead
   * cross-matches, and flagged members (ids, members and counts only).
   */
  async deliveryStatus() {
    const [delivery, crossMatch] = await Promise.all([this.deps.store.deliveryStatus(100), this.deps.crossMatches.status(100)]);
    return { ...delivery, ...crossMatch };
  }

  /**
   * Marks an alert seen by the caller, with when; audited as an alteration of the inbox. Another
   * user's WATCH alert is not theirs to see: ALERT_NOT_FOUND, as for an id that is not there.
   */
  async acknowledge(read: AuthorisedRead, id: string): Promise<AlertModel> {
    const { viewer } = read;
    const owner = await this.deps.store.alertOwner(id);
    const mine = owner === null || owner === ownerOf(viewer);
    const alert = owner !== undefined && mine ? await this.deps.store.acknowledge(id, ownerOf(viewer)) : null;
    await committed(() =>
      this.deps.audit.record({
        action: 'alteration',
        viewer,
        operation: 'acknowledgeAlert',
        queryIds: [`alert/${id}`],
        recordIds: alert ? [`alert/${id}`] : [],
        outcome: alert ? 'success' : 'error',
        reason: alert ? null : AlertErrorCode.ALERT_NOT_FOUND,
      }),
    );
    if (!alert) throw new McxError(AlertErrorCode.ALERT_NOT_FOUND, 'no alert with this id in this inbox');
    return alertSeenBy(alert, read);
  }

  /**
   * mcx.holders/1: this node's subjects that match the keys strongly, each with the count of its
   * episodes that the policy lets the caller see. References and counts only; audited as a
   * disclosure, with the caller's entry.
   */
  async holders(read: AuthorisedRead, keys: Parameters<SubjectService['matchQuery']>[0], withinDays: number, peer: PeerCallState) {
    const { subjects, records, disclosure } = this.deps;
    const strong = (await subjects.matchQuery(keys)).filter((m) => m.owner === this.deps.forceCode && m.strength === 'STRONG');
    const matches = [];
    for (const m of strong) {
      const page = await records.listLocal<EpisodeRecord>('episode', { subjectRef: m.subjectRef, first: MAX_COUNTED });
      const seen = page.nodes.filter((n) => 'released' in shapeByPolicy(disclosure, read.requester, n));
      matches.push({ subjectRef: m.subjectRef, episodes: seen.length, recentEpisodes: reportedWithin(seen, withinDays, this.deps.now()) });
    }
    await this.auditPeer(
      read,
      peer,
      'peerHolders',
      'disclosure',
      matches.map((m) => `subject/${m.subjectRef}`),
      subjects.digest(keys),
    );
    return { matches };
  }

  /** mcx.alert/1: a member's signed alert, verified and stored once by its id; audited as a collection either way. */
  async receive(read: AuthorisedRead, input: { bytes: string; signature: string }, peer: PeerCallState) {
    const holder = this.deps.holder;
    const from = read.requestingNode ?? '';
    const { limits } = this.deps;
    // Every message counts against its sender's quota, taken or not: a flood is refused before any work.
    const sent = await this.deps.crossMatches.countInbound(from);
    if (sent > limits.inboundPerMinute) {
      if (sent === limits.inboundPerMinute + 1) await this.deps.crossMatches.flag(from, AlertErrorCode.ALERT_QUOTA_EXCEEDED);
      await this.auditPeer(read, peer, 'peerAlert', 'collection', [], null, AlertErrorCode.ALERT_QUOTA_EXCEEDED);
      throw new McxError(AlertErrorCode.ALERT_QUOTA_EXCEEDED, 'this member has sent more alerts this minute than this node takes');
    }
    const clock = { now: this.deps.now(), maxAgeMs: limits.maxAgeMs, skewMs: limits.skewMs };
    const checked = holder
      ? readAlertMessage(
          input,
          { from, to: this.deps.forceCode },
          holder.keyResolver('record'),
          (kid) => holder.ownerOfKid(kid)?.code,
          clock,
        )
      : ({ refused: AlertErrorCode.ALERT_WRONG_PARTY } as const);
    if ('refused' in checked) {
      await this.auditPeer(read, peer, 'peerAlert', 'collection', [], null, checked.refused);
      throw new McxError(checked.refused, 'the alert message was refused');
    }
    const m = checked.message;
    const stored = await this.deps.store.addInbox({
      id: m.id,
      kind: m.kind,
      fromNode: m.from,
      body: { yourSubjectRefs: m.yourSubjectRefs, episode: m.episode, holders: [], threshold: m.threshold },
      bytes: checked.bytes,
      signature: checked.signature,
    });
    if (stored === 'conflict') {
      // Another alert holds this id: refused and flagged in the audit trail, never taken for a redelivery.
      await this.auditPeer(read, peer, 'peerAlert', 'collection', [`alert/${m.id}`], null, AlertErrorCode.ALERT_ID_CONFLICT);
      throw new McxError(AlertErrorCode.ALERT_ID_CONFLICT, 'another alert already holds this id');
    }
    const firstDelivery = stored === 'stored';
    const watched = await this.raiseForWatches(m);
    const ids = [`alert/${m.id}`, ...watched.map((id) => `alert/${id}`)];
    await this.auditPeer(read, peer, 'peerAlert', 'collection', ids, null, firstDelivery ? null : 'REDELIVERY');
    return { id: m.id, firstDelivery };
  }

  /** The alert raised again for each running watch on the child, once each (by a derived id), as its watcher's; their ids. */
  private async raiseForWatches(m: AlertMessage): Promise<string[]> {
    const running = await this.deps.watchStore.running(m.yourSubjectRefs, this.deps.now());
    const ids: string[] = [];
    for (const w of running) {
      const id = derivedId('WATCH', m.id, w.id);
      const watch = { id: w.id, purpose: w.purpose, caseRef: w.caseRef };
      const body = { yourSubjectRefs: [w.subjectRef], episode: m.episode, holders: [], threshold: m.threshold, watch };
      await this.deps.store.addInbox({ id, kind: 'WATCH', fromNode: m.from, body, bytes: null, signature: null, forUser: w.createdBy });
      ids.push(id);
    }
    return ids;
  }

  private async auditPeer(
    read: AuthorisedRead,
    peer: PeerCallState,
    operation: string,
    action: 'disclosure' | 'collection',
    recordIds: string[],
    linkageDigest: string | null,
    reason: string | null = null,
  ): Promise<void> {
    const entry = await committed(() =>
      this.deps.audit.record({
        action,
        viewer: read.viewer,
        requestingNode: read.requestingNode,
        purpose: read.purpose,
        caseRef: read.caseRef,
        linkageDigest,
        operation,
        queryIds: [],
        recordIds,
        outcome: reason && reason !== 'REDELIVERY' ? 'refused' : 'success',
        reason,
        peerEntryId: peer.callerEntry,
      }),
    );
    peer.entry = { id: `${this.deps.forceCode}:${entry.seq}`, hash: entry.hash };
  }
}
