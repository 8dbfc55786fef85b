/**
 * Watches: set by a reader of this node, for the request's purpose and case, and theirs: only
 * their creator (the same issuer and subject, ownerOf) lists, renews or cancels one (another user is refused with WATCH_NOT_YOURS); an
 * auditor may list every user's, read only. Each is audited (setting and renewing as
 * consultations of the child, so they count in the fishing alerts; cancelling as an alteration).
 * Alerts about a watched child are raised again as WATCH alerts, for the watcher (AlertService.receive).
 */
import { randomUUID } from 'node:crypto';

import { McxError } from '@mcx/errors';

import type { AuthorisedRead } from '../../auth/access.js';
import type { AuditService } from '../audit/audit-service.js';
import { auditConsultation, committed } from '../audit/read-audit.js';
import { AlertErrorCode, type WatchModel } from './alert-model.js';
import { ownerOf, watchSeenBy } from './alert-owner.js';
import type { AlertStore } from './alert-store.js';
import type { WatchStore } from './watch-store.js';

export interface WatchServiceDeps {
  forceCode: string;
  watches: WatchStore;
  alerts: AlertStore;
  audit: AuditService;
  now: () => Date;
}

const subjectKey = (force: string, ref: string) => `subject/${force}/${ref}`;

export class WatchService {
  constructor(private readonly deps: WatchServiceDeps) {}

  async watch(read: AuthorisedRead, subjectRef: string, expiresAt: string): Promise<WatchModel> {
    const { forceCode, alerts, watches } = this.deps;
    const key = subjectKey(forceCode, subjectRef);
    if ((await alerts.strongKeys(forceCode, subjectRef)).length === 0) {
      throw await this.refuse(
        read,
        'watchChild',
        key,
        AlertErrorCode.WATCH_SUBJECT_UNKNOWN,
        'this node holds no linkage keys for that subject',
      );
    }
    const id = randomUUID();
    await auditConsultation(this.deps.audit, read, 'watchChild', [key], [key, `watch/${id}`], null);
    const added = await watches.add(
      { id, subjectRef, purpose: read.purpose, caseRef: read.caseRef, createdBy: ownerOf(read.viewer), expiresAt },
      this.deps.now(),
    );
    return watchSeenBy(added, read);
  }

  async renew(read: AuthorisedRead, id: string, expiresAt: string): Promise<WatchModel> {
    const { watches } = this.deps;
    const before = await watches.get(id);
    if (!before) throw await this.refuse(read, 'renewWatch', `watch/${id}`, AlertErrorCode.WATCH_NOT_FOUND, 'no watch with this id here');
    if (before.createdBy !== ownerOf(read.viewer))
      throw await this.refuse(read, 'renewWatch', `watch/${id}`, AlertErrorCode.WATCH_NOT_YOURS, 'only the user who set a watch renews it');
    const renewed = await watches.renew(id, expiresAt, this.deps.now());
    if (!renewed)
      throw await this.refuse(read, 'renewWatch', `watch/${id}`, AlertErrorCode.WATCH_ENDED, 'this watch has ended: set a new one');
    await auditConsultation(
      this.deps.audit,
      read,
      'renewWatch',
      [`watch/${id}`],
      [subjectKey(this.deps.forceCode, before.subjectRef), `watch/${id}`],
      null,
    );
    return watchSeenBy(renewed, read);
  }

  async cancel(read: AuthorisedRead, id: string): Promise<WatchModel> {
    const before = await this.deps.watches.get(id);
    if (before && before.createdBy !== ownerOf(read.viewer))
      throw await this.refuse(
        read,
        'cancelWatch',
        `watch/${id}`,
        AlertErrorCode.WATCH_NOT_YOURS,
        'only the user who set a watch cancels it',
        'alteration',
      );
    const cancelled = before ? await this.deps.watches.cancel(id, this.deps.now()) : null;
    await committed(() =>
      this.deps.audit.record({
        action: 'alteration',
        viewer: read.viewer,
        purpose: read.purpose,
        caseRef: read.caseRef,
        operation: 'cancelWatch',
        queryIds: [`watch/${id}`],
        recordIds: cancelled ? [`watch/${id}`] : [],
        outcome: cancelled ? 'success' : 'error',
        reason: cancelled ? null : AlertErrorCode.WATCH_NOT_FOUND,
      }),
    );
    if (!cancelled) throw new McxError(AlertErrorCode.WATCH_NOT_FOUND, 'no watch with this id here');
    return watchSeenBy(cancelled, read);
  }

  /** The reader's own watches; with `all`, every user's, for an auditor only (WATCH_LIST_NOT_PERMITTED otherwise). */
  async list(read: AuthorisedRead, ended: boolean, all = false): Promise<WatchModel[]> {
    if (all && !read.auditsThisNode)
      throw await this.refuse(
        read,
        'watches',
        'watch/*',
        AlertErrorCode.WATCH_LIST_NOT_PERMITTED,
        'listing every user’s watches is for auditors',
      );
    const found = await this.deps.watches.list(ended, this.deps.now(), all ? null : ownerOf(read.viewer));
    await auditConsultation(
      this.deps.audit,
      read,
      'watches',
      [],
      found.map((w) => `watch/${w.id}`),
      null,
    );
    return found.map((w) => watchSeenBy(w, read));
  }

  /** A refused request is audited as refused, with its code, before the error goes back. */
  private async refuse(
    read: AuthorisedRead,
    operation: string,
    asked: string,
    code: AlertErrorCode,
    message: string,
    action: 'consultation' | 'alteration' = 'consultation',
  ): Promise<McxError> {
    await committed(() =>
      this.deps.audit.record({
        action,
        viewer: read.viewer,
        purpose: read.purpose,
        caseRef: read.caseRef,
        operation,
        queryIds: [asked],
        recordIds: [],
        outcome: 'refused',
        reason: code,
      }),
    );
    return new McxError(code, message);
  }
}
