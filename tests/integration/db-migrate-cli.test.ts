// `mcx db migrate` as deploy/runbook.md runs it in production: as the schema owner, with nothing
// but the database configured, and a refusal that names what the owner lacks.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectedMigrationCount, withDatabase } from '@mcx/db';
import { testAdminUrl } from '@mcx/db/testing';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

/** Runs `mcx` with exactly `env` (and PATH), as a shell with only these variables would. */
async function mcx(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('mcx db migrate in production', () => {
  const suffix = randomBytes(4).toString('hex');
  const owner = `mcx_owner_${suffix}`;
  const weakOwner = `mcx_weak_owner_${suffix}`;
  const database = `mcx_migrate_${suffix}`;
  const weakDatabase = `mcx_migrate_weak_${suffix}`;
  const password = randomBytes(12).toString('hex');
  let admin: postgres.Sql;
  const urlAs = (role: string, db: string) => {
    const u = new URL(withDatabase(testAdminUrl(), db));
    u.username = role;
    u.password = password;
    return u.toString();
  };

  beforeAll(async () => {
    admin = postgres(testAdminUrl(), { max: 1, onnotice: () => {} });
    // As deploy/runbook.md ("Database roles") has the DBA do it, once with CREATEROLE and once without.
    await admin.unsafe(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${password}'`);
    await admin.unsafe(`CREATE ROLE ${weakOwner} LOGIN PASSWORD '${password}'`);
    await admin.unsafe(`CREATE DATABASE ${database} OWNER ${owner}`);
    await admin.unsafe(`CREATE DATABASE ${weakDatabase} OWNER ${weakOwner}`);
  });
  afterAll(async () => {
    await admin?.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin?.unsafe(`DROP DATABASE IF EXISTS ${weakDatabase} WITH (FORCE)`);
    await admin?.unsafe(`DROP ROLE IF EXISTS ${owner}`);
    await admin?.unsafe(`DROP ROLE IF EXISTS ${weakOwner}`);
    await admin?.end();
  });

  it('migrates as MCX_MIGRATION_DATABASE_URL, with no issuers, keys or manifest, while DATABASE_URL names a login that does not exist yet', async () => {
    const result = await mcx(['db', 'migrate'], {
      MCX_ENV: 'production',
      MCX_MIGRATION_DATABASE_URL: urlAs(owner, database),
      // The runbook creates the node's login after the migrations: connecting with it would fail.
      DATABASE_URL: urlAs(`mcx_absent_${suffix}`, database),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`applied ${expectedMigrationCount()} migrations to ${database} as ${owner}\n`);
    // Again: nothing to do, and it says so (the node's pods wait on this).
    const again = await mcx(['db', 'migrate'], { MCX_ENV: 'production', MCX_MIGRATION_DATABASE_URL: urlAs(owner, database) });
    expect(again.stdout).toBe(`nothing pending: ${database} as ${owner} is current\n`);
    const sql = postgres(withDatabase(testAdminUrl(), database), { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(row!.n).toBe(expectedMigrationCount());
    } finally {
      await sql.end();
    }
  });

  it('in production, with no database at all, says which variable to set', async () => {
    const result = await mcx(['db', 'migrate'], { MCX_ENV: 'production' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'mcx: Invalid configuration:\n  - MCX_MIGRATION_DATABASE_URL: is required in production (or DATABASE_URL): the schema owner that applies the migrations\n',
    );
  });

  it('an owner without CREATEROLE gets one sentence naming the privilege and the fix', async () => {
    const result = await mcx(['db', 'migrate'], { MCX_ENV: 'production', DATABASE_URL: urlAs(weakOwner, weakDatabase) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `mcx: "${weakOwner}" may not create roles, and the migrations create mcx_app: give the schema owner CREATEROLE (as a superuser: ALTER ROLE "${weakOwner}" CREATEROLE;), then run \`mcx db migrate\` again (deploy/runbook.md, "Database roles")\n`,
    );
  });
});
