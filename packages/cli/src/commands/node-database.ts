import type { Logger } from '@mcx/logger';
import type { Config } from '@mcx/node';

/** What a command that works on the node's database is given. */
export interface NodeDatabase {
  config: Config;
  logger: Logger;
  /** The node's database: DATABASE_URL, or the embedded one (started for this command). */
  url: string;
}

const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `work` on the node's database, as the node would find it (config from the environment).
 * An embedded server started here is stopped at the end, and on SIGINT or SIGTERM before the
 * process ends, so a command that is interrupted leaves no server holding the data folder.
 * The command's own outcome decides the exit code.
 */
export async function withNodeDatabase<T>(work: (db: NodeDatabase) => Promise<T>, opts: { purpose?: 'node' | 'migrate' } = {}): Promise<T> {
  const { loadConfig, resolveDatabase } = await import('@mcx/node');
  const { createLogger } = await import('@mcx/logger');
  const config = loadConfig(opts.purpose);
  const logger = createLogger({ level: config.logLevel });
  // The schema owner's URL alone is enough to migrate: no embedded server is started beside it.
  const { url, embedded } =
    opts.purpose === 'migrate' && config.migrationDatabaseUrl
      ? { url: config.migrationDatabaseUrl, embedded: null }
      : await resolveDatabase(config, logger);
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    logger.warn({ signal }, 'interrupted: stopping the embedded PostgreSQL');
    void (embedded?.stop() ?? Promise.resolve()).finally(() => process.exit(SIGNAL_EXIT[signal]));
  };
  const handlers = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };
  if (embedded) for (const [signal, handler] of Object.entries(handlers)) process.once(signal, handler);
  try {
    return await work({ config, logger, url });
  } finally {
    for (const [signal, handler] of Object.entries(handlers)) process.removeListener(signal, handler);
    await embedded?.stop();
  }
}
