// MCX_DB_PREPARE=false, for PgBouncer in transaction mode: the node's pool then leaves no named
// prepared statement on a server connection (the next transaction may run on another one).
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

import { anyOf, arrayParam, createDb, schema } from '@mcx/db';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { parseConfig } from '@mcx/node';

async function preparedAfterQueries(url: string, prepare: boolean, through: 'driver' | 'drizzle' = 'driver'): Promise<number> {
  const { db, sql, close } = createDb(url, { max: 1, prepare });
  try {
    for (const n of [1, 2, 3]) {
      if (through === 'driver') await sql`select ${n}::int as n`;
      else
        await db.transaction(async (tx) =>
          tx.select({ n: schema.records.version }).from(schema.records).where(eq(schema.records.version, n)),
        );
    }
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
    return row!.n;
  } finally {
    await close();
  }
}

/** The named statements of drizzle's queries after three transactions running the same select. */
async function namedAfterQueries(url: string, prepare: boolean): Promise<string[]> {
  const { db, sql, close } = createDb(url, { max: 1, prepare });
  try {
    for (const n of [1, 2, 3])
      await db.transaction(async (tx) =>
        tx.select({ n: schema.records.version }).from(schema.records).where(eq(schema.records.version, n)),
      );
    const rows = await sql.unsafe<{ statement: string }[]>(
      `select statement from pg_prepared_statements where statement like '%"records"%'`,
      [],
      { prepare: false },
    );
    return rows.map((r) => r.statement);
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

  it("drizzle's queries, in transactions too, are named statements (one per text), and none with MCX_DB_PREPARE=false", async () => {
    const url = await freshMigratedDatabase();
    // Three executions of one text inside transactions: one named statement for the select.
    expect(await namedAfterQueries(url, true)).toEqual(['select "version" from "records" where "records"."version" = $1']);
    expect(await namedAfterQueries(url, false)).toEqual([]);
  });

  it('a list of values goes as one array parameter: lists of 1, 2 and 3 values share one named statement, where IN lists make three', async () => {
    const url = await freshMigratedDatabase();
    const { db, sql, close } = createDb(url, { max: 1, prepare: true });
    const { records } = schema;
    try {
      for (const ids of [['a'], ['a', 'b'], ['a', 'b', 'c']]) {
        await db
          .select({ id: records.id })
          .from(records)
          .where(anyOf(records.id, ids, 'text'));
        await db
          .select({ id: records.id })
          .from(records)
          .where(eq(records.associateRefs, arrayParam(ids, 'text')));
        await db.select({ kind: records.kind }).from(records).where(inArray(records.id, ids));
      }
      const rows = await sql.unsafe<{ statement: string }[]>(
        `select statement from pg_prepared_statements where statement like '%"records"%' order by statement`,
        [],
        { prepare: false },
      );
      expect(rows.map((r) => r.statement)).toEqual([
        'select "id" from "records" where "records"."associate_refs" = $1::text[]',
        'select "id" from "records" where "records"."id" = any($1::text[])',
        'select "kind" from "records" where "records"."id" in ($1)',
        'select "kind" from "records" where "records"."id" in ($1, $2)',
        'select "kind" from "records" where "records"."id" in ($1, $2, $3)',
      ]);
    } finally {
      await close();
    }
  });
});
