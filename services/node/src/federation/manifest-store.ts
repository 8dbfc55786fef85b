import { sql } from 'drizzle-orm';

import { schema, type Database } from '@mcx/db';
import type { ManifestStore } from '@mcx/signing';

const { manifestState } = schema;

/**
 * The highest accepted manifest version, persisted in Postgres (shared by replicas), so a
 * restart cannot roll a node back. Stores only ever raise the version.
 */
export class PgManifestStore implements ManifestStore {
  constructor(private readonly db: Database) {}

  async highestVersionSeen(): Promise<number> {
    const [row] = await this.db.select({ v: manifestState.highestVersion }).from(manifestState);
    return row?.v ?? 0;
  }

  async recordVersion(v: number): Promise<void> {
    await this.db
      .insert(manifestState)
      .values({ id: 1, highestVersion: v })
      .onConflictDoUpdate({
        target: manifestState.id,
        set: { highestVersion: sql`greatest(${manifestState.highestVersion}, excluded.highest_version)` },
      });
  }

  /** Keeps the JWS of the newest manifest accepted, for a restart to fall back on. */
  async saveJws(version: number, jws: string): Promise<void> {
    await this.db
      .update(manifestState)
      .set({ manifestJws: jws, acceptedAt: new Date() })
      .where(sql`${manifestState.id} = 1 and ${manifestState.highestVersion} = ${version}`);
  }

  async heldJws(): Promise<string | null> {
    const [row] = await this.db.select({ jws: manifestState.manifestJws }).from(manifestState);
    return row?.jws ?? null;
  }
}
