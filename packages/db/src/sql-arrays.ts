import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';

// Lists of values as one array parameter. Every query is a named prepared statement
// (client.ts), and an IN list or ARRAY[...] of n values is a different text for each n: a
// statement per list length on every pooled connection, each parsed and planned afresh.

/** The element types lists go as. */
export type ArrayType = 'text' | 'integer' | 'bigint';

/** `values` as one parameter, `$n::type[]`: the same statement text whatever their number. */
export function arrayParam(values: readonly (string | number)[], type: ArrayType): SQL {
  return sql`${sql.param([...values])}::${sql.raw(type)}[]`;
}

/** `column = any($n::type[])`, for `column in (...)`: false for no values, as drizzle's inArray. */
export function anyOf(column: SQLWrapper, values: readonly (string | number)[], type: ArrayType): SQL {
  return sql`${column} = any(${arrayParam(values, type)})`;
}
