/** Builds the alert service, and the queue's worker when the node is federated and has a database login for it. */
import type { Database } from '@mcx/db';
import type { Logger } from '@mcx/logger';
import type { SigningKey } from '@mcx/signing';

import { alertLimits } from '../../alert-config.js';
import type { FederationClient } from '../../federation/federation-client.js';
import type { Trust } from '../../federation/trust.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Discloser } from '../disclosure/disclose.js';
import type { RecordService } from '../records/record-service.js';
import type { SubjectService } from '../subject/subject-service.js';
import { CrossMatchStore } from './alert-crossmatch-store.js';
import { AlertDispatchService } from './alert-dispatch-service.js';
import { AlertService } from './alert-service.js';
import { AlertStore } from './alert-store.js';
import { AlertWebhook } from './alert-webhook.js';
import { AlertWorker } from './alert-worker.js';
import { WatchService } from './watch-service.js';
import { WatchStore } from './watch-store.js';

export interface AlertParts {
  records: RecordService;
  audit: AuditService;
  subjects: SubjectService;
  disclosure: Discloser;
  federation: FederationClient | null;
}

/** What alerts need of the node's own dependencies (services.ts AppDeps). */
export interface AlertNodeDeps {
  config: { forceCode: string; history: { repeat: { count: number; days: number } }; alerts: { webhookUrl: string | null } };
  logger: Logger;
  db: { db: Database };
  trust?: Trust | null;
  /** The node's record key: it signs alert messages (typ mcx-alert+jws). */
  keys: { record: SigningKey<'record'> };
  databaseUrl?: string;
  now?: () => Date;
}

export function buildAlerts(deps: AlertNodeDeps, parts: AlertParts): { service: AlertService; worker: AlertWorker | null } {
  const { config, logger } = deps;
  const repeat = config.history.repeat;
  const store = new AlertStore(deps.db.db);
  const holder = deps.trust?.holder ?? null;
  let worker: AlertWorker | null = null;
  const now = deps.now ?? (() => new Date());
  const watchStore = new WatchStore(deps.db.db);
  const crossMatches = new CrossMatchStore(deps.db.db);
  const limits = alertLimits();
  const watches = new WatchService({ forceCode: config.forceCode, watches: watchStore, alerts: store, audit: parts.audit, now });
  const service = new AlertService({
    forceCode: config.forceCode,
    store,
    audit: parts.audit,
    records: parts.records,
    subjects: parts.subjects,
    disclosure: parts.disclosure,
    holder,
    now,
    watchStore,
    watches,
    crossMatches,
    limits,
    poke: () => worker?.poke(),
  });
  if (holder && parts.federation && deps.databaseUrl && service.enabled) {
    const dispatch = new AlertDispatchService({
      forceCode: config.forceCode,
      store,
      crossMatches,
      audit: parts.audit,
      records: parts.records,
      subjects: parts.subjects,
      disclosure: parts.disclosure,
      federation: parts.federation,
      holder,
      recordKey: deps.keys.record,
      repeat,
      holdersWaitMs: limits.holdersWaitMs,
      logger,
      now,
    });
    const url = config.alerts.webhookUrl;
    const webhook = url ? new AlertWebhook({ url, forceCode: config.forceCode, sign: (view) => parts.disclosure.sign(view) }) : null;
    worker = new AlertWorker({ databaseUrl: deps.databaseUrl, store, dispatch, logger, webhook });
  }
  return { service, worker };
}
