import { and, eq, lt, sql } from 'drizzle-orm';

import { anyOf, schema, type Database } from '@mcx/db';

import type { Tx } from '../audit/audit-store.js';

const { records, recordVersions, linkageKeys } = schema;

/** A retracted record's head: its tombstone's bytes say why it was retracted. */
export interface RetractedHead {
  id: string;
  kind: string;
  version: number;
  bytes: string;
}

/** Runs inside an erasure's transaction with the content versions it deleted. */
export type WithinErasure<T> = (tx: Tx, versions: number[]) => Promise<T>;

/** SQL for erasing retracted records' content (the signed tombstone stays) and their linkage keys. */
export class ErasureStore {
  constructor(private readonly db: Database) {}

  /** The heads (tombstones) of an owner's retracted records. */
  retracted(owner: string): Promise<RetractedHead[]> {
    return this.db
      .select({ id: records.id, kind: records.kind, version: records.version, bytes: recordVersions.bytes })
      .from(records)
      .innerJoin(
        recordVersions,
        and(eq(recordVersions.owner, records.owner), eq(recordVersions.id, records.id), eq(recordVersions.version, records.version)),
      )
      .where(and(eq(records.owner, owner), eq(records.state, 'RETRACTED')));
  }

  /** A record's current version and state, or null when the database does not hold it. */
  async head(owner: string, id: string): Promise<{ version: number; state: string } | null> {
    const rows = await this.db
      .select({ version: records.version, state: records.state })
      .from(records)
      .where(and(eq(records.owner, owner), eq(records.id, id)));
    return rows[0] ?? null;
  }

  /** Deletes every content version below the tombstone's, and the holder's linkage keys; `within` commits with them. */
  eraseBelow<T>(owner: string, id: string, version: number, within: WithinErasure<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const gone = await tx
        .delete(recordVersions)
        .where(and(eq(recordVersions.owner, owner), eq(recordVersions.id, id), lt(recordVersions.version, version)))
        .returning({ version: recordVersions.version });
      await this.deleteKeys(tx, owner, id);
      return within(
        tx,
        gone.map((g) => g.version),
      );
    });
  }

  /** Deletes the listed content versions (never a tombstone), and the holder's linkage keys; `within` commits with them. */
  eraseVersions<T>(owner: string, id: string, versions: number[], within: WithinErasure<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const gone = await tx
        .delete(recordVersions)
        .where(
          and(
            eq(recordVersions.owner, owner),
            eq(recordVersions.id, id),
            anyOf(recordVersions.version, versions, 'integer'),
            sql`${recordVersions.bytes} not like '%"mcx.tombstone/1"%'`,
          ),
        )
        .returning({ version: recordVersions.version });
      await this.deleteKeys(tx, owner, id);
      return within(
        tx,
        gone.map((g) => g.version),
      );
    });
  }

  private async deleteKeys(tx: Tx, owner: string, holder: string): Promise<void> {
    await tx.delete(linkageKeys).where(and(eq(linkageKeys.owner, owner), eq(linkageKeys.holder, holder)));
  }
}
