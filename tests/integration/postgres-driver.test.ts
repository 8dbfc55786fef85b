// The `postgres` driver as installed here is mended (scripts/patch-postgres.mjs, run on install):
// sql.begin() reserves its connection whenever it has sent BEGIN. Unmended, a BEGIN written to a
// connection that could take no more queries was refused (UNSAFE_TRANSACTION) while the server
// had entered the transaction, and the connection went back to the pool with it open: the next
// statements ran inside it. max_pipeline 0 takes that path on every BEGIN (porsager/postgres#1210);
// under load it was taken now and then (an audit append failed with two node instances on one database).
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { freshMigratedDatabase } from '@mcx/db/testing';

let url: string;
let sql: postgres.Sql;

beforeAll(async () => {
  url = await freshMigratedDatabase('mcx_driver');
  // max_pipeline is an option of the driver's that its types leave out.
  sql = postgres(url, { max: 3, max_pipeline: 0, onnotice: () => {} } as postgres.Options<Record<string, never>>);
  await sql`create table driver_check (n int not null)`;
}, 60_000);

afterAll(() => sql?.end({ timeout: 5 }));

it('a transaction begun on a connection that takes no more queries is reserved, commits, and leaves no transaction open', async () => {
  for (let round = 0; round < 5; round++) {
    // Every connection busy, and more queries queued, while transactions begin.
    const busy = [1, 2, 3].map(() => sql`select pg_sleep(0.05)`);
    const plain = Array.from({ length: 6 }, () => sql`select 1 as one`);
    const tx = Array.from({ length: 5 }, (_, i) =>
      sql.begin(async (t) => {
        await t`insert into driver_check values (${round * 10 + i})`;
        return i;
      }),
    );
    expect(await Promise.all(tx)).toEqual([0, 1, 2, 3, 4]);
    await Promise.all([...busy, ...plain]);
  }
  // No connection of the pool is left inside a transaction, and every insert is committed: another connection sees all 25.
  const other = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const open = await other<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%'`;
    expect(open[0]!.n).toBe(0);
    const [row] = await other<{ n: number }[]>`select count(*)::int as n from driver_check`;
    expect(row!.n).toBe(25);
  } finally {
    await other.end({ timeout: 5 });
  }
});
