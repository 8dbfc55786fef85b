import { sql } from 'drizzle-orm';

import type { ManifestStore } from '@mcx/signing';

import { schema, type LinkageDb } from './db/index.js';

const { linkageManifestState } = schema;

/**
 * The highest trust manifest version any replica has accepted, in the linkage database: a
 * replica (re)started with an older manifest file is refused, so a restart cannot roll the
 * service back. The stored version only ever rises.
 */
export class PgLinkageManifestStore implements ManifestStore {
  constructor(private readonly store: Pick<LinkageDb, 'db'>) {}

  async highestVersionSeen(): Promise<number> {
    const [row] = await this.store.db.select({ v: linkageManifestState.highestVersion }).from(linkageManifestState);
    return row?.v ?? 0;
  }

  async recordVersion(v: number): Promise<void> {
    await this.store.db
      .insert(linkageManifestState)
      .values({ id: 1, highestVersion: v })
      .onConflictDoUpdate({
        target: linkageManifestState.id,
        set: { highestVersion: sql`greatest(${linkageManifestState.highestVersion}, excluded.highest_version)`, updatedAt: sql`now()` },
      });
  }
}
