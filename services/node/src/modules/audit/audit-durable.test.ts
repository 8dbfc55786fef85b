// The audit chain's appends commit durably whatever the session's synchronous_commit: a read's
// entry must be on disk before the read is answered, even if the setting is turned off for the
// node's login or database after the start check (start-node.ts) let the node in.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chainEntries } from '@mcx/audit';
import { createDb, type DbHandle } from '@mcx/db';
import { freshMigratedDatabase } from '@mcx/db/testing';

import { GUESSED_APPEND, guessedAppendParams } from './audit-append-sql.js';
import { AuditStore } from './audit-store.js';
import { testEntry as entry } from './test-entry.js';

describe('audit appends on a database whose synchronous_commit is off', () => {
  let db: DbHandle;
  beforeAll(async () => {
    const url = await freshMigratedDatabase();
    const admin = createDb(url, { max: 1 });
    await admin.sql.unsafe(`alter database "${new URL(url).pathname.slice(1)}" set synchronous_commit = off`);
    await admin.close();
    db = createDb(url, { max: 1 });
  });
  afterAll(() => db?.close());

  const setting = async (sql: DbHandle['sql']) =>
    (await sql<{ synchronous_commit: string }[]>`show synchronous_commit`)[0]!.synchronous_commit;

  it('the one-statement group append makes its own transaction commit durably, and only that transaction', async () => {
    expect(await setting(db.sql)).toBe('off');
    const during = await db.sql.begin(async (tx) => {
      const [held] = await tx.unsafe<{ held: number }[]>(
        GUESSED_APPEND,
        guessedAppendParams(null, chainEntries(null, [entry(1)]), []) as never[],
      );
      expect(held!.held).toBe(1);
      return setting(tx as unknown as DbHandle['sql']);
    });
    expect(during).toBe('on');
    expect(await setting(db.sql)).toBe('off');
  });

  it("an append inside a write's transaction makes that transaction commit durably", async () => {
    const store = new AuditStore(db.db);
    const during = await db.db.transaction(async (tx) => {
      await store.appendInTx(tx, [entry(2)]);
      const rows = (await tx.execute(sql`show synchronous_commit`)) as unknown as { synchronous_commit: string }[];
      return rows[0]!.synchronous_commit;
    });
    expect(during).toBe('on');
    expect(await setting(db.sql)).toBe('off');
    const [rows] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_entries`;
    expect(rows!.n).toBe(2);
  });

  it('receipts stored alone (no entry, so no chain lock) commit durably too', async () => {
    // The real transaction, read once more before it commits: what its commit will wait for.
    let during: string | undefined;
    const probed = new Proxy(db.db, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
        return (fn: (tx: unknown) => Promise<unknown>) =>
          target.transaction(async (tx) => {
            const result = await fn(tx);
            const rows = (await tx.execute(sql`show synchronous_commit`)) as unknown as { synchronous_commit: string }[];
            during = rows[0]!.synchronous_commit;
            return result;
          });
      },
    });
    // A fresh store knows no head, so it stores them in a transaction of their own.
    await new AuditStore(probed).appendWithReceipts([], [{ peer: 'GMP', peerEntryId: 'GMP:7', receiptJws: 'receipt', ourSeq: 1 }]);
    expect(during).toBe('on');
    const [held] = await db.sql<{ n: number }[]>`select count(*)::int as n from audit_receipts where peer_entry_id = 'GMP:7'`;
    expect(held!.n).toBe(1);
  });
});
