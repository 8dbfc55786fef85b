import { McxError } from '@mcx/errors';
import { createLogger } from '@mcx/logger';

import { LinkageConfigError, loadLinkageConfig } from './config.js';
import { startLinkageService } from './server.js';

export { createLinkageApp, type LinkageApp, type LinkageAppDeps } from './app.js';
export { parseLinkageConfig, loadLinkageConfig, LinkageConfigError, type LinkageConfig } from './config.js';
export { startLinkageService, type RunningLinkageService } from './server.js';
export { buildKeyring, loadKeyring, newKeysFile, addKeyVersion, type LinkageKeyEntry, type LinkageKeyring } from './keyring.js';
export { KeyRateLimiter, ReplayStore, type TakeResult } from './rate-limit.js';
export { PgLinkageManifestStore } from './manifest-store.js';
export { migrateLinkageDatabase, openLinkageDb, LINKAGE_MIGRATIONS_FOLDER, type LinkageDb } from './db/index.js';
export { MAX_BODY_BYTES } from './http.js';
export { LinkageKeysErrorCode, LinkageServiceErrorCode, type HttpErrorCode } from './errors.js';

/** `mcx linkage start`: parses config, starts the service, reloads the manifest on SIGHUP, stops on SIGTERM. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadLinkageConfig();
  } catch (err) {
    if (err instanceof LinkageConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, base: { service: 'mcx-linkage' } });
  let service;
  try {
    service = await startLinkageService(config, logger);
  } catch (err) {
    // An operator's fault found at start (a database that is not durable, a manifest older than
    // one a replica accepted): its code and what to do, not a stack trace.
    if (err instanceof McxError) {
      process.stderr.write(`${err.message} (${err.code})\n`);
      process.exit(1);
    }
    throw err;
  }
  process.stdout.write(`MCX linkage service on ${service.url}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    service.reloadManifest().catch((err: unknown) => logger.error({ err }, 'trust manifest reload failed; keeping the current one'));
  });
}
