import closeWithGrace from 'close-with-grace';

import { createLogger } from '@mcx/logger';

import { ConfigError, loadConfig } from './config.js';
import { resolveDatabase, startNode } from './start-node.js';

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

  // SIGTERM and SIGINT (and an uncaught error) drain the node: in-flight requests finish within
  // MCX_SHUTDOWN_GRACE_MS, then the final audit checkpoint, the pool and the embedded database. A
  // second signal, or a close that outlives the grace period by 15 s, exits at once with status 1.
  closeWithGrace(
    {
      delay: config.shutdownGraceMs + 15_000,
      skip: ['SIGHUP'],
      logger: {
        error: (message: unknown) =>
          logger.error({ detail: message instanceof Error ? message.name : String(message) }, 'shutdown did not finish cleanly'),
      },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an unexpected error');
      else logger.info({ signal }, 'shutting down');
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
