import type { IncomingMessage, ServerResponse } from 'node:http';

import closeWithGrace from 'close-with-grace';

import { createLogger } from '@mcx/logger';

import { ConfigError, loadConfig } from './config.js';
import { markStopping } from './http/health-routes.js';
import { resolveDatabase, startNode, type RunningNode } from './start-node.js';

/** On a signal the node keeps serving, not ready, until no request has come for this long... */
const QUIET_MS = 1000;
/** ...or for at most this long: time for a load balancer to see /readyz fail and route elsewhere. */
const MAX_UNREADY_MS = 5000;

/**
 * Resolves once no request has arrived for QUIET_MS (at most MAX_UNREADY_MS after the call). Each
 * response meanwhile closes its connection, so a keep-alive client (a load balancer's upstream
 * pool) reconnects, and its next connection goes to a replica that is ready.
 */
function untilQuiet(node: RunningNode): Promise<void> {
  return new Promise((resolve) => {
    const http = node.server.server;
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(limit);
      http.off('request', arrived);
      resolve();
    };
    const arrived = (_req?: IncomingMessage, res?: ServerResponse) => {
      if (res && !res.headersSent) res.setHeader('connection', 'close');
      clearTimeout(quiet);
      quiet = setTimeout(done, QUIET_MS);
    };
    const limit = setTimeout(done, MAX_UNREADY_MS);
    http.on('request', arrived);
    arrived();
  });
}

/** Parses config, resolves the database, starts the node and stops it cleanly on SIGTERM. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, base: { service: 'mcx-node', force: config.forceCode } });
  const { url: databaseUrl, embedded } = await resolveDatabase(config, logger);
  const node = await startNode(config, logger, databaseUrl);
  logger.info({ url: `${node.url}/graphql`, env: config.env }, 'MCX node listening');
  process.stdout.write(`MCX node for ${config.forceCode} serving ${node.url}/graphql\n`);

  // SIGTERM and SIGINT (and an uncaught error) drain the node: /readyz says not ready at once while
  // the node still serves, until no request has come for 1 s (at most 5 s), so a load balancer
  // moves the traffic first; then it stops listening, in-flight requests finish within
  // MCX_SHUTDOWN_GRACE_MS, then the final audit checkpoint, the pool and the embedded database. A
  // second signal, or a close that outlives the grace period by 20 s, exits at once with status 1.
  closeWithGrace(
    {
      delay: config.shutdownGraceMs + MAX_UNREADY_MS + 15_000,
      skip: ['SIGHUP'],
      logger: {
        error: (message: unknown) =>
          logger.error({ detail: message instanceof Error ? message.name : String(message) }, 'shutdown did not finish cleanly'),
      },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an unexpected error');
      else logger.info({ signal }, 'shutting down');
      markStopping(node.app);
      if (!err) await untilQuiet(node);
      await node.close();
      await embedded?.stop();
      logger.info('stopped');
    },
  );
  // SIGHUP re-reads the trust manifest file: how an operator rolls out a new manifest.
  process.on('SIGHUP', () => {
    node.app.trust?.reload().catch((err: unknown) => logger.error({ err }, 'trust manifest reload failed; keeping the current one'));
  });
}
