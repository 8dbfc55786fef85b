// MCX_DB_PREPARE=false, for PgBouncer in transaction mode: the node's pool then leaves no named
// prepared statement on a server connection (the next transaction may run on another one).
import { describe, expect, it } from 'vitest';

import { createDb } from '@mcx/db';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { parseConfig } from '@mcx/node';

async function preparedAfterQueries(url: string, prepare: boolean): Promise<number> {
  const { sql, close } = createDb(url, { max: 1, prepare });
  try {
    for (const n of [1, 2, 3]) await sql`select ${n}::int as n`;
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
    return row!.n;
  } finally {
    await close();
  }
}

describe('prepared statements', () => {
  it('MCX_DB_PREPARE is on by default and false turns named statements off', async () => {
    expect(parseConfig({}).dbPrepare).toBe(true);
    expect(parseConfig({ MCX_DB_PREPARE: 'false' }).dbPrepare).toBe(false);
    const url = await freshMigratedDatabase();
    expect(await preparedAfterQueries(url, true)).toBeGreaterThan(0);
    expect(await preparedAfterQueries(url, false)).toBe(0);
  });
});
