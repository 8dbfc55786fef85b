import { describe, expect, it } from 'vitest';

import { choosePostgresStrategy, withDatabase } from './provision.js';

describe('choosePostgresStrategy', () => {
  it.each([
    { databaseUrl: 'postgres://u:p@db:5432/x', containerRuntimeAvailable: true, want: 'database-url' },
    { databaseUrl: 'postgres://u:p@db:5432/x', containerRuntimeAvailable: false, want: 'database-url' },
    { databaseUrl: undefined, containerRuntimeAvailable: true, want: 'testcontainers' },
    { databaseUrl: '', containerRuntimeAvailable: true, want: 'testcontainers' },
    { databaseUrl: '  ', containerRuntimeAvailable: false, want: 'embedded' },
    { databaseUrl: undefined, containerRuntimeAvailable: false, want: 'embedded' },
  ])('DATABASE_URL=$databaseUrl runtime=$containerRuntimeAvailable -> $want', ({ want, ...input }) => {
    expect(choosePostgresStrategy(input)).toBe(want);
  });

  it('swaps only the database name of a URL', () => {
    expect(withDatabase('postgres://a:b%40c@127.0.0.1:5433/postgres?sslmode=disable', 'mcx_x')).toBe(
      'postgres://a:b%40c@127.0.0.1:5433/mcx_x?sslmode=disable',
    );
  });
});
