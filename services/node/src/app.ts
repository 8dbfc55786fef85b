import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';

import { isOrgKind, type DevIssuer, type OrgKind } from '@mcx/auth';
import { migrationStatus, schema as tables, type DbHandle } from '@mcx/db';
import { createFanOut } from '@mcx/federation';
import type { LinkageEvaluator } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';

import type { Resolvers } from './__generated__/resolvers-types.js';
import { createAuthenticator, type Principal } from './auth/access.js';
import { subgraphEntryGuard } from './auth/subgraph-guard.js';
import type { Config } from './config.js';
import { createContext, type Context, type Services } from './context.js';
import { createErrorHandling } from './errors.js';
import { FederationClient } from './federation/federated-read.js';
import { federatedEpisodes, McxFederatedEpisode } from './federation/federated-resolvers.js';
import { JtiStore } from './federation/jti-store.js';
import { createPeerEndpoint, type PeerAnswerFault, type PeerEndpoint } from './federation/peer-endpoint.js';
import { peerAssociateLinks, peerAssociatePointers, peerHistory, peerLocations } from './federation/peer-resolvers.js';
import type { Trust } from './federation/trust.js';
import { graphqlLimits } from './graphql-limits.js';
import type { NodeKeys } from './keys.js';
import * as associateResolvers from './modules/associate/resolvers.js';
import { AuditService } from './modules/audit/audit-service.js';
import { AuditStore } from './modules/audit/audit-store.js';
import * as auditResolvers from './modules/audit/resolvers.js';
import { SecurityLog } from './modules/audit/security-log.js';
import { createAssociateDetailsSource } from './modules/disclosure/associate-details.js';
import type { Discloser } from './modules/disclosure/disclose.js';
import { loadDisclosurePolicy } from './modules/disclosure/policy.js';
import { EpisodeService } from './modules/episode/episode-service.js';
import * as episodeResolvers from './modules/episode/resolvers.js';
import * as historyResolvers from './modules/history/resolvers.js';
import * as locationResolvers from './modules/location-of-concern/resolvers.js';
import { IntegrityMonitor, ownRecordKeys } from './modules/records/record-integrity.js';
import { kindToGraphql } from './modules/records/record-kind.js';
import { RecordService } from './modules/records/record-service.js';
import { RecordStore } from './modules/records/record-store.js';
import * as recordResolvers from './modules/records/resolvers.js';
import * as subjectResolvers from './modules/subject/resolvers.js';
import { SubjectService } from './modules/subject/subject-service.js';
import { SubjectStore } from './modules/subject/subject-store.js';
import { DateScalar, DateTimeScalar } from './scalars.js';
import { buildSchema } from './schema.js';

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
  /** Tests only: how this node, as a faulty peer, corrupts or delays its peer answers. */
  peerAnswerFault?: PeerAnswerFault;
}

/** What /readyz reports: ready only with the database reachable and its migrations current. */
export interface Readiness {
  ready: boolean;
  database: 'reachable' | 'unreachable';
  migrations: { applied: number; expected: number } | null;
  manifest: ReturnType<Trust['describe']> | null;
  integrity: { state: string; faultsDetected: number; lastFaultAt: string | null };
  audit: string;
}

/** The node's parts that the HTTP edge (services/node/src/http/) serves. No sockets, no routes. */
export interface App {
  forceCode: string;
  apollo: ApolloServer<Context>;
  /**
   * Verifies the bearer token (and a forwarded user's) from the headers alone: null without an
   * Authorization header; throws a TOKEN_* McxError for a bad one.
   */
  authenticate(headers: IncomingHttpHeaders): Promise<Principal | null>;
  /** The context of one /graphql request, for an already-verified principal. */
  graphqlContext(input: {
    requestId: string;
    logger: Logger;
    principal: Principal | null;
    headers: IncomingHttpHeaders;
    source: string;
  }): Context;
  /** Unauthenticated noise (no token, a refused token), rate-limited, outside the audit chain. */
  security: SecurityLog;
  /** The receiving end of the peer protocol; null when this node is not federated. */
  peerEndpoint: PeerEndpoint | null;
  readiness(): Promise<Readiness>;
  /** The node's public keys (informational: peers trust the signed manifest, never this). */
  jwks: { keys: Record<string, unknown>[] };
  start(): Promise<void>;
  stop(): Promise<void>;
  services: Services;
  trust: Trust | null;
}

/** How long /readyz waits for the database before it reports it unreachable. */
const READINESS_DB_TIMEOUT_MS = 2000;

/** Wires the node together. It opens no sockets: startNode (or a test) does that. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config, db, logger } = deps;
  const organisations = await db.db
    .select({ code: tables.refOrganisations.code, kind: tables.refOrganisations.kind, policeArea: tables.refOrganisations.policeArea })
    .from(tables.refOrganisations);
  const policeAreas = new Map(organisations.map((o) => [o.code, o.policeArea]));
  const known = new Set(organisations.map((o) => o.code));
  const kinds = new Map(organisations.map((o) => [o.code, o.kind]));
  const authorities = new Set(organisations.filter((o) => o.kind === 'local_authority').map((o) => o.code));
  const records = new RecordService({
    store: new RecordStore(db.db),
    recordKey: deps.keys.record,
    forceCode: config.forceCode,
    clockSkewSeconds: config.clockSkewSeconds,
    isKnownOrganisation: (code) => known.has(code),
    isKnownAuthority: (code) => authorities.has(code),
    reviewDays: config.reviewDays,
    // Stored records are verified before any use, with this node's record keys (parsed once).
    verifyKeys: ownRecordKeys(config.forceCode, deps.keys.record, deps.trust?.holder ?? null),
    integrity: new IntegrityMonitor({ logger, ...(deps.now ? { now: deps.now } : {}) }),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const auditStore = new AuditStore(db.db);
  const audit = new AuditService({
    store: auditStore,
    node: config.forceCode,
    auditKey: deps.keys.auditCheckpoint,
    logger,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const security = new SecurityLog(auditStore, logger);
  const subjects = new SubjectService({
    db: db.db,
    store: new SubjectStore(db.db),
    evaluator: deps.linkageEvaluator ?? null,
    previousEvaluator: deps.previousLinkageEvaluator ?? null,
    forceCode: config.forceCode,
    // The audit log keeps an HMAC of linkage keys, keyed from the node's audit key.
    digestKey: createHash('sha256')
      .update('mcx-linkage-digest/1')
      .update(deps.keys.auditCheckpoint.privateKey.export({ format: 'der', type: 'pkcs8' }))
      .digest(),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const disclosure: Discloser = {
    policy: loadDisclosurePolicy(config.disclosurePolicyFile),
    sign: (view) => records.signView(view),
    contactOf: (force) => deps.trust?.holder.member(force)?.contact24x7 ?? null,
  };
  const associateDetails = config.associateDetails ? createAssociateDetailsSource(config.associateDetails) : null;
  // The calling end of the peer protocol, when this node is a member of a federation.
  const fanOut = deps.trust
    ? createFanOut({
        perPeerTimeoutMs: config.federation.peerTimeoutMs,
        overallDeadlineMs: config.federation.deadlineMs,
        maxResponseBytes: config.federation.maxResponseBytes,
        breaker: { consecutiveFailures: config.federation.breakerFailures, halfOpenAfterMs: config.federation.breakerHalfOpenMs },
      })
    : null;
  // An owner counting links inside a member's request has half the per-peer time for it.
  const nestedFanOut = deps.trust
    ? createFanOut({
        perPeerTimeoutMs: Math.max(50, Math.floor(config.federation.peerTimeoutMs / 2)),
        overallDeadlineMs: Math.max(50, Math.floor(config.federation.peerTimeoutMs / 2)),
        maxResponseBytes: 64 * 1024,
        breaker: { consecutiveFailures: config.federation.breakerFailures, halfOpenAfterMs: config.federation.breakerHalfOpenMs },
      })
    : null;
  const federation =
    deps.trust && fanOut && nestedFanOut
      ? new FederationClient({
          forceCode: config.forceCode,
          holder: deps.trust.holder,
          peerTokenKey: deps.keys.peerToken,
          fanOut,
          nestedFanOut,
          now: deps.now ?? (() => new Date()),
          requireHttps: config.federation.requireHttps,
        })
      : null;
  if (federation && config.env === 'production' && !config.federation.requireHttps) {
    logger.warn(
      'MCX_PEER_ALLOW_HTTP is set: this production node calls members over plain http; use it only on a closed evaluation network',
    );
  }
  const history: Services['history'] = {
    now: deps.now ?? (() => new Date()),
    repeat: config.history.repeat,
    nearMetres: config.history.nearMetres,
    policeAreaOf: (code) => policeAreas.get(code) ?? null,
  };
  const services: Services = {
    records,
    episodes: new EpisodeService(records, config.forceCode),
    audit,
    subjects,
    disclosure,
    associateDetails,
    federation,
    history,
  };
  let checkpointTimer: NodeJS.Timeout | null = null;

  const resolvers: Resolvers = {
    DateTime: DateTimeScalar,
    Date: DateScalar,
    Query: {
      nodeForce: async (_, __, ctx) => {
        await ctx.access.requireViewer('nodeForce');
        return config.forceCode;
      },
      ...auditResolvers.queries,
      matchSubjects: subjectResolvers.matchSubjects,
      nodeStatus: async (_, __, ctx) => {
        await ctx.access.require('operator.admin', 'nodeStatus');
        const migrations = await migrationStatus(db.sql);
        const manifest = deps.trust?.describe() ?? null;
        return {
          force: config.forceCode,
          environment: config.env,
          keys: [deps.keys.record, deps.keys.peerToken, deps.keys.auditCheckpoint].map((k) => ({ job: k.job, kid: k.kid })),
          manifestVersion: manifest?.version ?? null,
          manifestStatus: manifest?.status ?? null,
          migrationsApplied: migrations.applied,
          migrationsExpected: migrations.expected,
          integrity: (({ recent, ...status }) => ({ ...status, recent: recent.map((f) => ({ ...f, kind: kindToGraphql(f.kind) })) }))(
            records.integrity.status(),
          ),
        };
      },
      localEpisodes: episodeResolvers.localEpisodes,
      localEpisode: episodeResolvers.localEpisode,
      localAssociate: associateResolvers.localAssociate,
      localLocationOfConcern: locationResolvers.localLocationOfConcern,
      associatePointer: associateResolvers.associatePointer,
      peerHistory,
      peerAssociateLinks,
      peerLocations,
      peerAssociatePointers,
      federatedEpisodes,
      childHistory: historyResolvers.childHistory,
      federatedLocationsOfConcern: historyResolvers.federatedLocationsOfConcern,
    },
    Mutation: {
      publishEpisode: episodeResolvers.publishEpisode,
      publishEpisodes: episodeResolvers.publishEpisodes,
      amendEpisode: episodeResolvers.amendEpisode,
      closeEpisode: episodeResolvers.closeEpisode,
      publishAssociate: associateResolvers.publishAssociate,
      publishAssociates: associateResolvers.publishAssociates,
      amendAssociate: associateResolvers.amendAssociate,
      publishLocationOfConcern: locationResolvers.publishLocationOfConcern,
      publishLocationsOfConcern: locationResolvers.publishLocationsOfConcern,
      amendLocationOfConcern: locationResolvers.amendLocationOfConcern,
      restrictRecord: recordResolvers.restrictRecord,
      unrestrictRecord: recordResolvers.unrestrictRecord,
      retractRecord: recordResolvers.retractRecord,
      reviewRecord: recordResolvers.reviewRecord,
      auditCheckpoint: auditResolvers.auditCheckpoint,
      publishSubject: subjectResolvers.publishSubject,
      rekeySubject: subjectResolvers.rekeySubject,
      requestAssociateDetails: associateResolvers.requestAssociateDetails,
    },
    MissingEpisode: episodeResolvers.MissingEpisode,
    McxAssociate: associateResolvers.McxAssociate,
    McxAssociatePointer: associateResolvers.McxAssociatePointer,
    McxFederatedEpisode,
    McxIncident: historyResolvers.McxIncident,
    McxIncidentSource: historyResolvers.McxIncidentSource,
    McxHistoryAssociate: historyResolvers.McxHistoryAssociate,
    McxLocationOfConcernNear: historyResolvers.McxLocationOfConcernNear,
    McxLocationOfConcern: locationResolvers.McxLocationOfConcern,
  };

  const authenticator = createAuthenticator(config, deps.devIssuer ?? null);
  const limits = graphqlLimits(config.graphql);
  // Every GraphQL error is described from its structure: answered, logged and traced without the caller's values.
  const errorHandling = createErrorHandling(logger);
  const apollo = new ApolloServer<Context>({
    schema: buildSchema(resolvers as never),
    // MCX_ENV is the only switch: Apollo never reads NODE_ENV for its defaults. The node's own
    // shutdown (drain, final audit checkpoint) stops Apollo; Apollo installs no signal handlers.
    nodeEnv: config.env,
    stopOnTerminationSignals: false,
    introspection: config.graphql.introspection,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: the node takes full documents only (a request that asks for
    // one gets PERSISTED_QUERY_NOT_SUPPORTED, a client error, never an internal one).
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    csrfPrevention: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ...limits.plugins,
      subgraphEntryGuard({ production: config.env === 'production' }),
      errorHandling.plugin,
    ],
    formatError: errorHandling.formatError,
    logger: errorHandling.apolloLogger,
  });

  const peerEndpoint = deps.trust
    ? createPeerEndpoint({
        forceCode: config.forceCode,
        holder: deps.trust.holder,
        auditKey: deps.keys.auditCheckpoint,
        jtis: new JtiStore(db.db),
        audit,
        security,
        apollo,
        clockLeewaySec: 5,
        organisationKind: (code) => (isOrgKind(kinds.get(code)) ? (kinds.get(code) as OrgKind) : null),
        ...(deps.peerAnswerFault ? { fault: deps.peerAnswerFault } : {}),
        now: deps.now ?? (() => new Date()),
        context: (principal, peerCall, log) =>
          createContext({
            requestId: randomUUID(),
            logger: log,
            forceCode: config.forceCode,
            services,
            principal,
            headers: {},
            caseRefRules: config.auth.caseRef,
            sink: { security, source: 'peer' },
            peerCall,
          }),
      })
    : null;
  let jtiSweepTimer: NodeJS.Timeout | null = null;

  const jwks = {
    keys: [deps.keys.record, deps.keys.peerToken, deps.keys.auditCheckpoint].map((k) => ({
      ...k.jwk,
      kid: k.kid,
      use: 'sig',
      alg: 'EdDSA',
      mcx_job: k.job,
    })),
  };

  async function readiness(): Promise<Readiness> {
    const manifest = deps.trust ? deps.trust.describe() : null;
    // Integrity faults are shown, never a reason to stop serving: the faulty records are withheld.
    // Counts only here (the endpoint is unauthenticated); nodeStatus names the records.
    const { state, faultsDetected, lastFaultAt } = records.integrity.status();
    const integrity = { state, faultsDetected, lastFaultAt };
    let timer: NodeJS.Timeout | undefined;
    try {
      // A query that fails or hangs is an unreachable database, never "reachable" with 0 migrations.
      const timeout = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('readiness query timed out')), READINESS_DB_TIMEOUT_MS)),
      );
      const status = await Promise.race([migrationStatus(db.sql), timeout]);
      return {
        ready: status.current,
        database: 'reachable',
        migrations: { applied: status.applied, expected: status.expected },
        manifest,
        integrity,
        audit: audit.readiness(),
      };
    } catch {
      return { ready: false, database: 'unreachable', migrations: null, manifest, integrity, audit: audit.readiness() };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    forceCode: config.forceCode,
    apollo,
    authenticate: (headers) => authenticator.authenticate(headers),
    graphqlContext: ({ requestId, logger: log, principal, headers, source }) =>
      createContext({
        requestId,
        logger: log,
        forceCode: config.forceCode,
        services,
        principal,
        headers,
        caseRefRules: config.auth.caseRef,
        sink: { security, source },
      }),
    security,
    peerEndpoint,
    readiness,
    jwks,
    services,
    trust: deps.trust ?? null,
    async start() {
      await apollo.start();
      if (config.auditCheckpointSeconds > 0) {
        checkpointTimer = setInterval(() => {
          audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'audit checkpoint failed'));
        }, config.auditCheckpointSeconds * 1000);
        checkpointTimer.unref();
      }
      if (peerEndpoint) {
        jtiSweepTimer = setInterval(() => {
          peerEndpoint.sweep().catch((err: unknown) => logger.error({ err }, 'peer token sweep failed'));
        }, 60_000);
        jtiSweepTimer.unref();
      }
    },
    async stop() {
      if (checkpointTimer) clearInterval(checkpointTimer);
      if (jtiSweepTimer) clearInterval(jtiSweepTimer);
      security.stop();
      await apollo.stop();
      await fanOut?.close();
      await nestedFanOut?.close();
      await audit.drain();
      await security.closeWindow();
      await audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'));
    },
  };
}
