import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createFreshDatabase } from '@mcx/db';
import { testAdminUrl } from '@mcx/db/testing';
import { exportPublicKeyPem, toPublicKey, TrustManifestHolder } from '@mcx/signing';

import { createLinkageApp, type LinkageAppDeps } from './app.js';
import { migrateLinkageDatabase, openLinkageDb } from './db/index.js';
import { buildKeyring } from './keyring.js';
import { PgLinkageManifestStore } from './manifest-store.js';
import { captureLogger, KEY_ENTRIES, signedTestManifest, TEST_KEYS, testClock } from './testkit.js';

// Test support for the db tests (*.test.ts, not *.unit.test.ts): a fresh linkage database on
// the test server (tests/setup/global-setup.ts), and the app over real loopback HTTP on it.

/** A fresh, migrated linkage database on the test server (never a node's: none of its tables). */
export async function freshLinkageDatabase(): Promise<string> {
  const url = await createFreshDatabase(testAdminUrl(), 'mcx_linkage');
  await migrateLinkageDatabase(url);
  return url;
}

/** A folder with the operator's public key, the signed test manifest and the keys file, as the service reads them. */
export function linkageTestFiles(): { dir: string; operator: string; manifest: string; keys: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-linkage-'));
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  return {
    dir,
    operator: file('operator.pub.pem', exportPublicKeyPem(TEST_KEYS.operator)),
    manifest: file('manifest.jws', `${signedTestManifest()}\n`),
    keys: file('keys.json', JSON.stringify(KEY_ENTRIES)),
  };
}

/** Starts the app on a loopback port with the test federation and a fresh database; `close()` when done. */
export async function startTestApp(config: Partial<LinkageAppDeps['config']> = {}) {
  const clock = testClock();
  const store = openLinkageDb(await freshLinkageDatabase(), { max: 4 });
  const holder = new TrustManifestHolder({
    operatorKey: toPublicKey(TEST_KEYS.operator),
    store: new PgLinkageManifestStore(store),
    now: clock.now,
  });
  await holder.accept(signedTestManifest());
  const log = captureLogger();
  const app = createLinkageApp({
    config: { audience: 'mcx-linkage', ratePerSecond: 200, burst: 2000, maxBatch: 64, ...config },
    holder,
    keys: buildKeyring(KEY_ENTRIES),
    store,
    logger: log.logger,
    now: clock.now,
  });
  const server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => {
      app.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await store.close();
  };
  return { url, clock, holder, log, app, store, close };
}
