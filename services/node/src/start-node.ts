import path from 'node:path';

import type { FastifyInstance } from 'fastify';

import type { DevIssuer } from '@mcx/auth';
import {
  commitDurability,
  createDb,
  ensureAppLogin,
  ensureDatabase,
  inspectLogin,
  isDurable,
  loadOrCreateSecret,
  notDurableError,
  privilegedLoginError,
  runMigrations,
  startEmbeddedPostgres,
  type DbHandle,
  type EmbeddedPostgresHandle,
} from '@mcx/db';
import { createHttpEvaluator, startOprfWorker, type LinkageEvaluator } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';
import { initTelemetry } from '@mcx/telemetry';

import { createApp, type App } from './app.js';
import { loadOrCreateDevIssuer } from './auth/dev-issuer-file.js';
import type { Config } from './config.js';
import { developmentConveniences } from './development-conveniences.js';
import type { PeerAnswerFault } from './federation/peer-endpoint.js';
import { loadTrust } from './federation/trust.js';
import { buildServer } from './http/server.js';
import { loadOrCreateNodeKeys, type NodeKeys } from './keys.js';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server.js';
import { NodeMetrics } from './metrics/node-metrics.js';

export interface RunningNode {
  url: string;
  app: App;
  server: FastifyInstance;
  /** GET /metrics (MCX_METRICS_PORT); null when off. */
  metricsUrl: string | null;
  /**
   * Stops accepting, lets in-flight requests finish (up to MCX_SHUTDOWN_GRACE_MS, then cuts the
   * connections left), stops the app (final audit checkpoint) and closes the pool. Called twice, it
   * returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Resolves the database a node uses: DATABASE_URL, or the embedded PostgreSQL under the data
 * directory with one database per force. On the embedded server the superuser migrates the
 * force's database and makes the node a least-privilege login, `mcx_<force>_node` (a member
 * of mcx_app only; its generated password is kept beside the data, readable by its owner
 * only), so that development runs with the rights production runs with.
 */
export async function resolveDatabase(config: Config, logger: Logger): Promise<{ url: string; embedded: EmbeddedPostgresHandle | null }> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: null };
  const dataDir = path.resolve(config.dataDir, 'postgres');
  logger.info({ dataDir, port: config.embeddedPgPort }, 'starting embedded PostgreSQL (development only)');
  const embedded = await startEmbeddedPostgres({ dataDir, port: config.embeddedPgPort });
  try {
    const force = config.forceCode.toLowerCase();
    const ownerUrl = await ensureDatabase(embedded.adminUrl, `mcx_${force}`);
    await runMigrations(ownerUrl);
    const login = `mcx_${force}_node`;
    const url = await ensureAppLogin(ownerUrl, login, loadOrCreateSecret(`${dataDir}.${login}.password`));
    return { url, embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

/**
 * The node's login must not be able to change the audit tables, whatever role it switches to
 * (see packages/db/src/roles.ts). Production refuses to start otherwise; development and test
 * say so in the log.
 */
async function checkDatabaseLogin(config: Config, logger: Logger, databaseUrl: string): Promise<void> {
  const inspection = await inspectLogin(databaseUrl);
  if (inspection.problems.length === 0) return;
  const err = privilegedLoginError('DATABASE_URL', inspection);
  if (config.env === 'production') throw err;
  logger.warn({ code: err.code, login: inspection.login }, `${err.message} (tolerated outside production only)`);
}

/**
 * Commits must wait for their WAL to reach disk: no read is answered before its audit entry is
 * on disk, and a used peer token's row is durable only through that commit. Production refuses
 * to start when synchronous_commit is off (wherever it was set) or fsync is off; development and
 * test say so. The audit appends force their own flush as well (DURABLE_COMMIT_SQL), against a
 * setting changed after this check.
 */
async function checkDurability(config: Config, logger: Logger, db: DbHandle): Promise<void> {
  const durability = await commitDurability(db.sql);
  if (isDurable(durability)) return;
  const err = notDurableError(durability, 'an audit entry could be lost in a crash after its read was answered');
  if (config.env === 'production') throw err;
  logger.warn({ code: err.code, login: durability.login }, `${err.message} (tolerated outside production only)`);
}

/**
 * Calls to the linkage service are signed with this node's peer-token key; the service checks it
 * against the manifest. During a key changeover the previous key version is asked as well.
 */
function linkageEvaluators(
  config: Config,
  keys: NodeKeys,
): { linkageEvaluator: LinkageEvaluator | null; previousLinkageEvaluator: LinkageEvaluator | null } {
  const linkage = config.linkage;
  if (!linkage) return { linkageEvaluator: null, previousLinkageEvaluator: null };
  const base = { url: linkage.url, member: config.forceCode, audience: linkage.audience, peerTokenKey: keys.peerToken };
  return {
    linkageEvaluator: createHttpEvaluator(base),
    previousLinkageEvaluator: linkage.previousKeyVersion ? createHttpEvaluator({ ...base, keyVersion: linkage.previousKeyVersion }) : null,
  };
}

/** The URL a node listening on `host` answers at. */
function listeningUrl(server: FastifyInstance, config: Config): string {
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
}

/** Binds the scrape-time gauges to the running node and listens for Prometheus on HOST:MCX_METRICS_PORT. */
function serveMetrics(
  metrics: NodeMetrics,
  app: App,
  server: FastifyInstance,
  db: DbHandle,
  config: Config,
  logger: Logger,
): Promise<MetricsServer> {
  metrics.bind({
    admission: server.federationGate,
    db,
    applicationName: `mcx-node-${config.forceCode}`,
    poolMax: config.dbPoolMax,
    federation: app.services.federation,
    audit: app.services.audit,
    integrity: app.services.records.integrity,
  });
  return startMetricsServer(metrics.registry, { host: config.host, port: config.metricsPort ?? 0, logger });
}

/** Migrates, builds the app and listens on config.host:config.port. */
export async function startNode(
  config: Config,
  logger: Logger,
  databaseUrl: string,
  opts: { keys?: NodeKeys; devIssuer?: DevIssuer; now?: () => Date; peerAnswerFault?: PeerAnswerFault } = {},
): Promise<RunningNode> {
  // MCX_ENV is the only switch: every development convenience it leaves on is named, at warn level.
  for (const { code, description } of developmentConveniences(config)) {
    logger.warn({ env: config.env, convenience: code }, `development convenience in force: ${description}`);
  }
  // Before anything else: a login that could rewrite the audit log is refused in production.
  await checkDatabaseLogin(config, logger, databaseUrl);
  // Tracing is per process; the first node started in a process sets it up.
  initTelemetry({
    serviceName: 'mcx-node',
    exporter: config.telemetry.exporter,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
  });
  const keys = opts.keys ?? (await loadOrCreateNodeKeys(config.keysDir, { allowGenerate: config.env !== 'production' }));
  const devIssuer = config.auth.devIssuer ? (opts.devIssuer ?? (await loadOrCreateDevIssuer(config.dataDir))) : null;
  await runMigrations(config.migrationDatabaseUrl ?? databaseUrl);
  // The pool acts as mcx_app: it can read and append the audit tables, never change them.
  const db = createDb(databaseUrl, {
    max: config.dbPoolMax,
    applicationName: `mcx-node-${config.forceCode}`,
    role: config.dbRole,
    prepare: config.dbPrepare,
  });
  await checkDurability(config, logger, db).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  const trust = config.trust ? await loadTrust(config.trust, db.db, logger) : null;
  const metrics = config.metricsPort === null ? null : new NodeMetrics();
  const evaluators = linkageEvaluators(config, keys);
  // With linkage, the OPRF worker thread loads and answers a known vector before the node serves.
  if (evaluators.linkageEvaluator)
    await startOprfWorker().catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
  const count = (e: LinkageEvaluator | null) => (e && metrics ? metrics.linkage(e) : e);
  const [linkageEvaluator, previousLinkageEvaluator] = [count(evaluators.linkageEvaluator), count(evaluators.previousLinkageEvaluator)];
  const app = await createApp({
    config,
    db,
    logger,
    keys,
    trust,
    devIssuer,
    linkageEvaluator,
    previousLinkageEvaluator,
    databaseUrl,
    metrics,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.peerAnswerFault ? { peerAnswerFault: opts.peerAnswerFault } : {}),
  });
  if (metrics) app.apollo.addPlugin(metrics.graphqlPlugin());
  await app.start();
  const server = await buildServer(app, { config, logger, databaseUrl });
  await server.listen({ port: config.port, host: config.host, listenTextResolver: () => 'HTTP edge listening' });
  const url = listeningUrl(server, config);
  const metricsServer = metrics ? await serveMetrics(metrics, app, server, db, config, logger) : null;
  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    server,
    metricsUrl: metricsServer?.url ?? null,
    close: () =>
      (closing ??= (async () => {
        // fastify.close() stops listening, closes idle keep-alive connections and waits for the
        // requests in flight; what is still open after the grace period is cut.
        const timer = setTimeout(() => server.server.closeAllConnections(), config.shutdownGraceMs);
        await server.close();
        clearTimeout(timer);
        await metricsServer?.close();
        await app.stop();
        await db.close();
      })()),
  };
}
