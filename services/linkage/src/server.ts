import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@mcx/logger';
import { InMemoryManifestStore, loadVerifyKey, TrustManifestHolder } from '@mcx/signing';
import { createLinkageApp, type LinkageApp } from './app.js';
import type { LinkageConfig } from './config.js';
import { loadKeyring } from './keyring.js';

/** A listening linkage service. */
export interface RunningLinkageService {
  /** Base URL, e.g. `http://127.0.0.1:4100`. */
  url: string;
  app: LinkageApp;
  /** Re-reads the manifest file (SIGHUP); a file older than the held manifest is refused. */
  reloadManifest(): Promise<void>;
  close(): Promise<void>;
}

/** Loads the keys and the manifest, builds the app and listens on `config.host:config.port`. */
export async function startLinkageService(config: LinkageConfig, logger: Logger, now: () => Date = () => new Date()): Promise<RunningLinkageService> {
  const keys = await loadKeyring(config.keysFile);
  const operatorKey = await loadVerifyKey(config.operatorPublicKeyFile, 'manifest');
  const holder = new TrustManifestHolder({ operatorKey, store: new InMemoryManifestStore(), now });
  const reloadManifest = async () => {
    const verified = await holder.accept((await readFile(config.manifestFile, 'utf8')).trim());
    const fields = { version: verified.manifest.version, members: verified.manifest.members.length };
    if (verified.status === 'in-grace') logger.warn({ ...fields, refuseAfter: verified.refuseAfter }, 'TRUST MANIFEST PAST ITS VALIDITY: ask the federation operator for a new one');
    else logger.info(fields, 'trust manifest installed');
  };
  await reloadManifest();

  const app = createLinkageApp({ config, holder, keys, logger, now });
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, app.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  logger.info({ keyVersions: keys.versions, audience: config.audience }, 'linkage service listening');
  return {
    url: `http://${host}:${port}`,
    app,
    reloadManifest,
    close: () =>
      new Promise<void>((resolve, reject) => {
        app.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
