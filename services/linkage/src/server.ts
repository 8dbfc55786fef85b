import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { startOprfWorker } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';
import { loadVerifyKey, TrustManifestHolder } from '@mcx/signing';

import { createLinkageApp, type LinkageApp } from './app.js';
import type { LinkageConfig } from './config.js';
import { assertDurableCommits, migrateLinkageDatabase, openLinkageDb } from './db/index.js';
import { loadKeyring } from './keyring.js';
import { PgLinkageManifestStore } from './manifest-store.js';

/** How often a replica deletes used tokens that have expired. */
const SWEEP_INTERVAL_MS = 60_000;

/** A listening linkage service. */
export interface RunningLinkageService {
  /** Base URL, e.g. `http://127.0.0.1:4100`. */
  url: string;
  app: LinkageApp;
  /** Re-reads the manifest file (SIGHUP); a file older than any replica has accepted is refused. */
  reloadManifest(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Migrates the linkage database, refuses it if its commits are not durable, loads the keys and
 * the manifest (refused if older than the version any replica has accepted), builds the app and
 * listens on `config.host:config.port`.
 */
export async function startLinkageService(
  config: LinkageConfig,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<RunningLinkageService> {
  const keys = await loadKeyring(config.keysFile);
  const operatorKey = await loadVerifyKey(config.operatorPublicKeyFile, 'manifest');
  await migrateLinkageDatabase(config.databaseUrl);
  const store = openLinkageDb(config.databaseUrl, { max: config.dbPoolMax });
  const holder = new TrustManifestHolder({ operatorKey, store: new PgLinkageManifestStore(store), now });
  const reloadManifest = async () => {
    const verified = await holder.accept((await readFile(config.manifestFile, 'utf8')).trim());
    const fields = { version: verified.manifest.version, members: verified.manifest.members.length };
    if (verified.status === 'in-grace')
      logger.warn(
        { ...fields, refuseAfter: verified.refuseAfter },
        'TRUST MANIFEST PAST ITS VALIDITY: ask the federation operator for a new one',
      );
    else logger.info(fields, 'trust manifest installed');
  };

  let app: LinkageApp;
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => app.handle(req, res));
  try {
    await assertDurableCommits(store);
    // The OPRF worker thread loads and answers a known vector before anything is served.
    await startOprfWorker();
    await reloadManifest();
    app = createLinkageApp({ config, holder, keys, store, logger, now });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const sweeper = setInterval(() => {
    app.sweep().catch((err: unknown) => logger.error({ err }, 'used node token sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info({ keyVersions: keys.versions, audience: config.audience }, 'linkage service listening');
  return {
    url: `http://${host}:${port}`,
    app,
    reloadManifest,
    close: async () => {
      clearInterval(sweeper);
      await new Promise<void>((resolve, reject) => {
        app.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      await store.close();
    },
  };
}
