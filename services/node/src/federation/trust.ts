import { readFile } from 'node:fs/promises';

import type { Database } from '@mcx/db';
import { McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';
import { loadVerifyKey, ManifestErrorCode, TrustManifestHolder } from '@mcx/signing';

import { PgManifestStore } from './manifest-store.js';

export interface TrustConfig {
  operatorPublicKeyFile: string;
  manifestFile: string;
}

/** The node's view of the federation: the pinned operator key and the current manifest. */
export interface Trust {
  holder: TrustManifestHolder;
  /** Re-reads the manifest file (SIGHUP, or `mcx manifest install`); refuses rollbacks. */
  reload(): Promise<void>;
  describe(): { version: number; status: 'valid' | 'in-grace' | 'expired' };
}

/**
 * Pins the operator key and installs the manifest from its file. A file older than the
 * newest manifest this node has accepted is refused, and the held one is used instead.
 */
export async function loadTrust(config: TrustConfig, db: Database, logger: Logger, now: () => Date = () => new Date()): Promise<Trust> {
  const operatorKey = await loadVerifyKey(config.operatorPublicKeyFile, 'manifest');
  const store = new PgManifestStore(db);
  const holder = new TrustManifestHolder({ operatorKey, store, now });

  async function install(jws: string, source: string): Promise<void> {
    const verified = await holder.accept(jws);
    await store.saveJws(verified.manifest.version, jws);
    const log = { version: verified.manifest.version, members: verified.manifest.members.length, source };
    if (verified.status === 'in-grace') {
      logger.warn(
        { ...log, refuseAfter: verified.refuseAfter },
        'TRUST MANIFEST PAST ITS VALIDITY: federation stops at the end of the grace period; ask the federation operator for a new manifest',
      );
    } else {
      logger.info(log, 'trust manifest installed');
    }
  }

  async function reload(): Promise<void> {
    const jws = (await readFile(config.manifestFile, 'utf8')).trim();
    try {
      await install(jws, 'file');
    } catch (err) {
      if (!(err instanceof McxError) || err.code !== ManifestErrorCode.MANIFEST_ROLLBACK) throw err;
      logger.error({ code: err.code }, 'the manifest file is older than the newest manifest this node has accepted; refusing it');
      const held = await store.heldJws();
      if (!held || holder.manifest) return;
      await install(held, 'held');
    }
  }

  await reload();
  if (!holder.manifest)
    throw new McxError(
      ManifestErrorCode.MANIFEST_ROLLBACK,
      'no acceptable trust manifest: the file is older than the version this node has seen',
    );
  return {
    holder,
    reload,
    describe: () => {
      try {
        return { version: holder.manifest!.version, status: holder.status().status };
      } catch {
        return { version: holder.manifest!.version, status: 'expired' as const };
      }
    },
  };
}
