/** The node's per-process services, built once from its configuration, keys, database and trust. */

import type { DevIssuer } from '@mcx/auth';
import type { DbHandle } from '@mcx/db';
import { createFanOut } from '@mcx/federation';
import type { LinkageEvaluator } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';
import type { TrustManifestHolder } from '@mcx/signing';

import type { Config } from './config.js';
import type { Services } from './context.js';
import { FederatedReadService } from './federation/federated-read-service.js';
import { FederationClient } from './federation/federation-client.js';
import type { PeerAnswerFault } from './federation/peer-endpoint.js';
import type { Trust } from './federation/trust.js';
import { linkageDigestKeyOf, readLinkageDigestKey, retiredAuditKeys, type NodeKeys } from './keys.js';
import { loadLocatorConfig, type LocatorConfig } from './locator-config.js';
import type { NodeMetrics } from './metrics/node-metrics.js';
import { buildAlerts } from './modules/alerts/alert-wiring.js';
import { AssociateDetailsService } from './modules/associate/associate-details-service.js';
import { LinkCountService } from './modules/associate/link-count-service.js';
import { LinkCountStore } from './modules/associate/link-count-store.js';
import { AuditService } from './modules/audit/audit-service.js';
import { AuditStore } from './modules/audit/audit-store.js';
import { SecurityLog } from './modules/audit/security-log.js';
import { createAssociateDetailsSource } from './modules/disclosure/associate-details.js';
import type { Discloser } from './modules/disclosure/disclose.js';
import { loadDisclosurePolicy } from './modules/disclosure/policy.js';
import { EpisodeService } from './modules/episode/episode-service.js';
import { HistoryService } from './modules/history/history-service.js';
import { LocatorStore } from './modules/locator/locator-store.js';
import { checkTimeoutMs, createLocator, type Locator } from './modules/locator/locator.js';
import { NodeStatusService } from './modules/node/node-status-service.js';
import { IntegrityMonitor, ownRecordKeys } from './modules/records/record-integrity.js';
import { RecordService } from './modules/records/record-service.js';
import { RecordStore } from './modules/records/record-store.js';
import { organisationsFrom, type Organisations } from './modules/reference/organisations.js';
import { ReferenceStore } from './modules/reference/reference-store.js';
import { SubjectService } from './modules/subject/subject-service.js';
import { SubjectStore } from './modules/subject/subject-store.js';

/** What createApp (and so createServices) is built from. */
export interface AppDeps {
  config: Config;
  db: DbHandle;
  logger: Logger;
  keys: NodeKeys;
  /** The federation trust (pinned operator key, manifest); null when not federated. */
  trust?: Trust | null;
  /** The development token issuer (never in production). */
  devIssuer?: DevIssuer | null;
  /** The federation's linkage service; null: this node accepts no identity. */
  linkageEvaluator?: LinkageEvaluator | null;
  /** The same service pinned to the previous key version, during a changeover. */
  previousLinkageEvaluator?: LinkageEvaluator | null;
  now?: () => Date;
  /** The node's database login, for the alert queue's own pool; without it no alert is delivered. */
  databaseUrl?: string;
  /** Tests only: how this node, as a faulty peer, corrupts or delays its peer answers. */
  peerAnswerFault?: PeerAnswerFault;
  /** The node's metrics (services/node/src/metrics/); null: none kept. */
  metrics?: NodeMetrics | null;
  /** The record locator's settings; by default from the environment (locator-config.ts). */
  locator?: LocatorConfig;
}

/** The services and what the app around them needs: the security log, the reference data, and a close for the fan-outs. */
export interface BuiltServices {
  services: Services;
  security: SecurityLog;
  organisations: Organisations;
  /** The alert queue's worker, started and stopped with the node's jobs; null when alerts are off. */
  alertWorker: { start(): Promise<void>; stop(): Promise<void> } | null;
  /** The record locator's timers (filter rebuilds, members' filters), started with the app. */
  locator: Locator;
  close(): Promise<void>;
}

/** True when the trust manifest lists `kid` as revoked (false without a usable manifest). */
function revokedInManifest(holder: TrustManifestHolder | null, kid: string): boolean {
  try {
    const found = holder?.keyResolver('audit-checkpoint')(kid);
    return found !== undefined && !found.found && found.reason === 'REVOKED_KEY';
  } catch {
    return false;
  }
}

/** The audit log keeps an HMAC of linkage keys: under the key pinned in the keys folder (keys.ts LINKAGE_DIGEST_FILE), else one derived from the audit key. */
function linkageDigestKey(keysDir: string, keys: NodeKeys): Buffer {
  return readLinkageDigestKey(keysDir) ?? linkageDigestKeyOf(keys.auditCheckpoint);
}

function createRecords(deps: AppDeps, organisations: Organisations): RecordService {
  const { config, keys, logger } = deps;
  return new RecordService({
    store: new RecordStore(deps.db.db),
    recordKey: keys.record,
    forceCode: config.forceCode,
    clockSkewSeconds: config.clockSkewSeconds,
    isKnownOrganisation: organisations.isKnown,
    isKnownAuthority: organisations.isAuthority,
    reviewDays: config.reviewDays,
    // Stored records are verified before any use, with this node's record keys (parsed once).
    verifyKeys: ownRecordKeys(config.forceCode, keys.record, deps.trust?.holder ?? null),
    integrity: new IntegrityMonitor({ logger, ...(deps.now ? { now: deps.now } : {}) }),
    ...(deps.now ? { now: deps.now } : {}),
  });
}

function federationFanOuts(config: Config, metrics: NodeMetrics | null) {
  const f = config.federation;
  const breaker = { consecutiveFailures: f.breakerFailures, halfOpenAfterMs: f.breakerHalfOpenMs };
  // An owner counting links inside a member's request has half the per-peer time for it.
  const nestedMs = Math.max(50, Math.floor(f.peerTimeoutMs / 2));
  return {
    fanOut: createFanOut({
      perPeerTimeoutMs: f.peerTimeoutMs,
      overallDeadlineMs: f.deadlineMs,
      maxResponseBytes: f.maxResponseBytes,
      breaker,
      ...(metrics ? { onResult: metrics.onPeerResult } : {}),
    }),
    nestedFanOut: createFanOut({ perPeerTimeoutMs: nestedMs, overallDeadlineMs: nestedMs, maxResponseBytes: 64 * 1024, breaker }),
  };
}

/** The calling end of the peer protocol, when this node is a member of a federation. */
function createFederation(deps: AppDeps, logger: Logger): { client: FederationClient | null; close(): Promise<void> } {
  const { config, trust } = deps;
  if (!trust) return { client: null, close: async () => undefined };
  const fanOuts = federationFanOuts(config, deps.metrics ?? null);
  if (config.env === 'production' && !config.federation.requireHttps) {
    logger.warn(
      'MCX_PEER_ALLOW_HTTP is set: this production node calls members over plain http; use it only on a closed evaluation network',
    );
  }
  const client = new FederationClient({
    forceCode: config.forceCode,
    holder: trust.holder,
    peerTokenKey: deps.keys.peerToken,
    ...fanOuts,
    now: deps.now ?? (() => new Date()),
    requireHttps: config.federation.requireHttps,
  });
  return { client, close: () => fanOuts.fanOut.close().then(() => fanOuts.nestedFanOut.close()) };
}

/** Builds every service once. Reads the reference data (ref_organisations) from the database. */
export async function createServices(deps: AppDeps): Promise<BuiltServices> {
  const { config, db, logger, keys } = deps;
  const now = deps.now ? { now: deps.now } : {};
  const organisations = organisationsFrom(await new ReferenceStore(db.db).organisations());
  const records = createRecords(deps, organisations);
  const auditStore = new AuditStore(db.db);
  deps.metrics?.timeAuditAppends(auditStore);
  const audit = new AuditService({
    store: auditStore,
    node: config.forceCode,
    auditKey: keys.auditCheckpoint,
    retiredAuditKeys: retiredAuditKeys(config.keysDir),
    isRevokedKey: (kid) => revokedInManifest(deps.trust?.holder ?? null, kid),
    logger,
    ...now,
  });
  const subjects = new SubjectService({
    store: new SubjectStore(db.db),
    evaluator: deps.linkageEvaluator ?? null,
    previousEvaluator: deps.previousLinkageEvaluator ?? null,
    forceCode: config.forceCode,
    digestKey: linkageDigestKey(config.keysDir, keys),
    ...now,
  });
  const disclosure: Discloser = {
    policy: loadDisclosurePolicy(config.disclosurePolicyFile),
    sign: (view) => records.signView(view),
    contactOf: (force) => deps.trust?.holder.member(force)?.contact24x7 ?? null,
  };
  const federation = createFederation(deps, logger);
  const locatorConfig = deps.locator ?? loadLocatorConfig();
  const locator = createLocator({
    config: locatorConfig,
    forceCode: config.forceCode,
    holder: deps.trust?.holder ?? null,
    store: new LocatorStore(db.db, checkTimeoutMs(locatorConfig.rebuildMs)),
    audit,
    keys,
    federation: config.federation,
    logger,
    now: deps.now ?? (() => new Date()),
  });
  const reads = new FederatedReadService({
    forceCode: config.forceCode,
    federation: federation.client,
    audit,
    subjects,
    locator: locator.view,
  });
  const historyRules = {
    now: deps.now ?? (() => new Date()),
    repeat: config.history.repeat,
    nearMetres: config.history.nearMetres,
    policeAreaOf: organisations.policeAreaOf,
  };
  const source = config.associateDetails ? createAssociateDetailsSource(config.associateDetails) : null;
  const alerts = buildAlerts(deps, { records, audit, subjects, disclosure, federation: federation.client });
  const linkCounts = new LinkCountService({
    forceCode: config.forceCode,
    store: new LinkCountStore(db.db, config.forceCode),
    federation: federation.client,
    holder: deps.trust?.holder ?? null,
    subjects,
    audit,
    settings: config.linkCounts,
    logger,
    now: deps.now ?? (() => new Date()),
  });
  const services: Services = {
    records,
    episodes: new EpisodeService({ records, forceCode: config.forceCode, disclosure, audit, alerts: alerts.service }),
    audit,
    subjects,
    disclosure,
    federation: federation.client,
    federatedReads: reads,
    history: new HistoryService({ reads, rules: historyRules }),
    associateDetails: new AssociateDetailsService({ forceCode: config.forceCode, records, disclosure, audit, source }),
    node: new NodeStatusService({
      forceCode: config.forceCode,
      env: config.env,
      db,
      keys,
      trust: deps.trust ?? null,
      integrity: records.integrity,
      audit,
    }),
    alerts: alerts.service,
    linkCounts,
    locatorFilter: locator.publisher,
    locatorView: locator.view,
  };
  return {
    services,
    security: new SecurityLog(auditStore, logger),
    organisations,
    alertWorker: alerts.worker,
    locator,
    close: () => locator.stop().then(federation.close),
  };
}
