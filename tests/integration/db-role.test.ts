// The node's database login (DESIGN.md, "Database rights"): it owns no audit table, is no
// superuser and cannot become a role that is (SET ROLE must not escape), and has no UPDATE,
// DELETE or TRUNCATE on the audit tables. Production refuses to start otherwise.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AUDIT_TABLES, createFreshDatabase, ensureAppLogin, runMigrations, withDatabase } from '@mcx/db';
import { testAdminUrl } from '@mcx/db/testing';
import { generateNodeKeys, manifestKeys, parseConfig, resolveDatabase, startNode, type NodeKeys } from '@mcx/node';
import { addMember, exportPublicKeyPem, generateSigningKey, initManifest, signManifest } from '@mcx/signing';

import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { serveJwksOverHttps } from '../testkit/https-jwks.js';
import { capturingLogger } from '../testkit/logs.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

const REFUSAL_TAIL = ": the node must log in as a role with only the application's grants (see deploy/runbook.md)";

/** A whole-string pattern for `text`, where %N% stands for a number and %SEQ% for the migrations' sequences, if any. */
const exactly = (text: string) =>
  new RegExp(
    `^${text
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace('%N%', '\\d+')
      .replace('%SEQ%', '(, the owner of \\d+ sequences? or views?)?')}$`,
  );

const connect = (url: string, role?: string) => postgres(url, { max: 1, onnotice: () => {}, ...(role ? { connection: { role } } : {}) });

/** A statement that would change the audit table `table` (each table's own column for UPDATE). */
function tamperings(table: string): string[] {
  const column = { audit_entries: 'outcome', audit_checkpoints: 'jws', audit_receipts: 'peer', security_events: 'kind' }[table] ?? 'x';
  return [
    `update ${table} set ${column} = 'x'`,
    `delete from ${table}`,
    `truncate ${table}`,
    `drop table ${table}`,
    `alter table ${table} disable trigger all`,
  ];
}

describe("on a running node, the node's own login cannot leave the application role to change the audit tables", () => {
  let t: TestNode;
  let admin: postgres.Sql;
  let owner: string;
  const counts = async () =>
    Object.fromEntries(
      await Promise.all(
        AUDIT_TABLES.map(async (tbl) => [tbl, (await admin.unsafe(`select count(*)::int as n from ${tbl}`))[0]!.n as number]),
      ),
    );

  beforeAll(async () => {
    t = await startTestNode({ force: 'WMP' });
    const input = episodeInput();
    await publishEpisode(t.client, input);
    await localEpisode(t.investigator, 'WMP', input.id!);
    admin = connect(t.databaseUrl);
    owner = (await admin<{ tableowner: string }[]>`select tableowner from pg_tables where tablename = 'audit_entries'`)[0]!.tableowner;
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
  });

  it('the node logs in as a role of its own, not as the owner of the audit tables', async () => {
    const sql = connect(t.config.databaseUrl!, t.config.dbRole);
    try {
      const [who] = await sql<{ session: string; current: string }[]>`select session_user::text as session, current_user::text as current`;
      expect(who!.current).toBe('mcx_app');
      expect(who!.session).not.toBe(owner);
      expect(who!.session).not.toBe('mcx_app');
    } finally {
      await sql.end();
    }
  });

  it.each([
    ['SET ROLE NONE', 'set role none'],
    ['RESET ROLE', 'reset role'],
    ['SET ROLE to the owner', 'set role %OWNER%'],
    ['SET SESSION AUTHORIZATION to the owner', 'set session authorization %OWNER%'],
  ])(
    '%s, then UPDATE, DELETE, TRUNCATE, DROP or ALTER on every audit table: permission denied, nothing changed',
    async (_label, escape) => {
      const before = await counts();
      expect(before.audit_entries).toBeGreaterThan(0);
      // Logged in exactly as the node's pool: its DATABASE_URL, acting as its role.
      const sql = connect(t.config.databaseUrl!, t.config.dbRole);
      try {
        const statement = escape.replace('%OWNER%', `"${owner}"`);
        if (escape.includes('%OWNER%')) {
          await expect(sql.unsafe(statement)).rejects.toMatchObject({ code: '42501' });
        } else {
          await sql.unsafe(statement);
        }
        const [who] = await sql<
          { current: string; superuser: boolean }[]
        >`select current_user::text as current, current_setting('is_superuser') = 'on' as superuser`;
        expect(who!.current).not.toBe(owner);
        expect(who!.superuser).toBe(false);
        for (const table of AUDIT_TABLES) {
          for (const tamper of tamperings(table)) {
            await expect(sql.unsafe(tamper), `${statement}; ${tamper}`).rejects.toMatchObject({ code: '42501' });
          }
        }
      } finally {
        await sql.end();
      }
      expect(await counts()).toEqual(before);
    },
  );
});

describe('a production node refuses a DATABASE_URL whose login can change the audit tables', () => {
  let dir: string;
  let keys: NodeKeys;
  let admin: postgres.Sql;
  const adminUrl = () => testAdminUrl();
  const suffix = randomBytes(4).toString('hex');
  // A force database set up as deploy/runbook.md says: the schema owner migrates it, the node logs in as its own role.
  const rb = {
    owner: `mcx_owner_${suffix}`,
    ownerPassword: randomBytes(12).toString('hex'),
    database: `mcx_rb_${suffix}`,
    node: `mcx_rb_${suffix}_node`,
    nodePassword: randomBytes(12).toString('hex'),
  };
  let ownerUrl: string;
  let nodeUrl: string;

  const userUrl = (url: string, user: string, password: string) => {
    const u = new URL(url);
    u.username = user;
    u.password = password;
    return u.toString();
  };

  /** Starts a node the way `mcx node start` does in production: config from the environment, resolveDatabase, startNode. */
  async function startProduction(env: Record<string, string>) {
    const config = parseConfig({
      MCX_ENV: 'production',
      MCX_FORCE_CODE: 'WMP',
      PORT: '0',
      LOG_LEVEL: 'warn',
      MCX_ISSUERS_FILE: path.join(dir, 'issuers.json'),
      MCX_OPERATOR_PUBLIC_KEY_FILE: path.join(dir, 'operator.pub.pem'),
      MCX_MANIFEST_FILE: path.join(dir, 'manifest.jws'),
      MCX_AUDIT_CHECKPOINT_SECONDS: '0',
      ...env,
    });
    const { logger } = capturingLogger('warn');
    const { url } = await resolveDatabase(config, logger);
    return startNode(config, logger, url, { keys });
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mcx-db-role-'));
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const jwks = await serveJwksOverHttps({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] });
    writeFileSync(
      path.join(dir, 'issuers.json'),
      JSON.stringify([
        {
          id: 'wmp-idp',
          issuer: 'https://idp.wmp.test',
          audience: 'api://mcx-wmp',
          jwksUrl: jwks.url,
          algorithms: ['EdDSA'],
          force: 'WMP',
          orgKind: 'police',
          typ: 'at+jwt',
          claimMapping: 'plain',
        },
      ]),
    );
    const operator = generateSigningKey('manifest');
    writeFileSync(path.join(dir, 'operator.pub.pem'), exportPublicKeyPem(operator));
    keys = generateNodeKeys();
    const manifest = addMember(initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 }), {
      code: 'WMP',
      name: 'West Midlands Police',
      kind: 'police',
      endpoint: 'https://mcx.wmp.test',
      contact24x7: '+44 121 000 0000',
      keys: manifestKeys(keys),
      capabilities: [],
    });
    writeFileSync(path.join(dir, 'manifest.jws'), signManifest(manifest, operator));

    // deploy/runbook.md, "Database roles": the DBA creates the owner and the database; the owner migrates.
    admin = connect(adminUrl());
    await admin.unsafe(`create role ${rb.owner} login createrole password '${rb.ownerPassword}'`);
    await admin.unsafe(`create database ${rb.database} owner ${rb.owner}`);
    ownerUrl = userUrl(withDatabase(adminUrl(), rb.database), rb.owner, rb.ownerPassword);
    await runMigrations(ownerUrl);
    // The node's login; on this shared test server mcx_app already existed, so the DBA grants it.
    nodeUrl = await ensureAppLogin(withDatabase(adminUrl(), rb.database), rb.node, rb.nodePassword);
    await admin.unsafe(`alter role ${rb.owner} nocreaterole`);
  });
  afterAll(async () => {
    await admin?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a superuser: refused before the database is touched', async () => {
    const url = await createFreshDatabase(adminUrl(), 'mcx_rb_super');
    const login = decodeURIComponent(new URL(url).username);
    await expect(startProduction({ DATABASE_URL: url })).rejects.toMatchObject({
      code: 'DATABASE_LOGIN_PRIVILEGED',
      message: `DATABASE_URL logs in as "${login}", a superuser${REFUSAL_TAIL}`,
    });
    const sql = connect(url);
    try {
      const [state] = await sql<
        { audit: string | null; journal: string | null }[]
      >`select to_regclass('public.audit_entries')::text as audit, to_regclass('drizzle.__drizzle_migrations')::text as journal`;
      expect(state).toEqual({ audit: null, journal: null });
    } finally {
      await sql.end();
    }
  });

  it('the owner of the tables (the schema owner that migrated them)', async () => {
    await expect(startProduction({ DATABASE_URL: ownerUrl })).rejects.toMatchObject({
      code: 'DATABASE_LOGIN_PRIVILEGED',
      message: expect.stringMatching(
        exactly(
          `DATABASE_URL logs in as "${rb.owner}", the owner of database "${rb.database}", the owner of schema "drizzle", the owner of schema "pgboss", the owner of table "audit_entries" and %N% other tables%SEQ%${REFUSAL_TAIL}`,
        ),
      ),
    });
  });

  it('a role that can SET ROLE to the owner', async () => {
    const escaper = `mcx_rb_${suffix}_escape`;
    const password = randomBytes(12).toString('hex');
    await admin.unsafe(`create role ${escaper} login password '${password}'`);
    await admin.unsafe(`grant mcx_app, ${rb.owner} to ${escaper}`);
    await admin.unsafe(`grant connect on database ${rb.database} to ${escaper}`);
    const url = userUrl(withDatabase(adminUrl(), rb.database), escaper, password);
    // What the refusal is for: this login reaches the audit tables' owner.
    const sql = connect(url, 'mcx_app');
    try {
      await sql.unsafe(`set role ${rb.owner}`);
      expect((await sql<{ owner: string }[]>`select current_user::text as owner`)[0]!.owner).toBe(rb.owner);
    } finally {
      await sql.end();
    }
    await expect(startProduction({ DATABASE_URL: url, MCX_MIGRATION_DATABASE_URL: ownerUrl })).rejects.toMatchObject({
      code: 'DATABASE_LOGIN_PRIVILEGED',
      message: expect.stringMatching(
        exactly(
          `DATABASE_URL logs in as "${escaper}", which can SET ROLE to "${rb.owner}", the owner of database "${rb.database}", the owner of schema "drizzle", the owner of schema "pgboss", the owner of table "audit_entries" and %N% other tables%SEQ%${REFUSAL_TAIL}`,
        ),
      ),
    });
  });

  it('a login whose application role was granted UPDATE on the audit log', async () => {
    const owner = connect(ownerUrl);
    await owner`grant update on audit_entries to mcx_app`;
    try {
      await expect(startProduction({ DATABASE_URL: nodeUrl, MCX_MIGRATION_DATABASE_URL: ownerUrl })).rejects.toMatchObject({
        code: 'DATABASE_LOGIN_PRIVILEGED',
        message: `DATABASE_URL logs in as "${rb.node}", which can SET ROLE to "mcx_app", granted UPDATE on "audit_entries"${REFUSAL_TAIL}`,
      });
    } finally {
      await owner`revoke update on audit_entries from mcx_app`;
      await owner.end();
    }
  });

  it('a login granted UPDATE on only some columns of the audit log', async () => {
    const owner = connect(ownerUrl);
    await owner`grant update (outcome, record_ids) on audit_entries to mcx_app`;
    try {
      await expect(startProduction({ DATABASE_URL: nodeUrl, MCX_MIGRATION_DATABASE_URL: ownerUrl })).rejects.toMatchObject({
        code: 'DATABASE_LOGIN_PRIVILEGED',
        message: `DATABASE_URL logs in as "${rb.node}", which can SET ROLE to "mcx_app", granted column UPDATE on "audit_entries"${REFUSAL_TAIL}`,
      });
    } finally {
      await owner`revoke update (outcome, record_ids) on audit_entries from mcx_app`;
      await owner.end();
    }
  });

  it("the node's own least-privilege login starts, with migrations run as the owner", async () => {
    const node = await startProduction({ DATABASE_URL: nodeUrl, MCX_MIGRATION_DATABASE_URL: ownerUrl });
    try {
      // Ready, as a readiness probe sees it: a machine busy with other work can hold the node's event
      // loop long enough after its start for /readyz to say "overloaded" (503) for a moment.
      await expect.poll(async () => (await fetch(`${node.url}/readyz`)).status, { timeout: 15_000, interval: 500 }).toBe(200);
    } finally {
      await node.close();
    }
  });

  it('a database whose commits do not wait for their flush (synchronous_commit off): refused, with the fix', async () => {
    await admin.unsafe(`alter database ${rb.database} set synchronous_commit = off`);
    try {
      await expect(startProduction({ DATABASE_URL: nodeUrl })).rejects.toMatchObject({
        code: 'DATABASE_NOT_DURABLE',
        message: expect.stringContaining(
          `synchronous_commit is off (set by the database); an audit entry could be lost in a crash after its read was answered. Fix: ALTER DATABASE ${rb.database} RESET synchronous_commit;`,
        ),
      });
    } finally {
      await admin.unsafe(`alter database ${rb.database} reset synchronous_commit`);
    }
  });

  it('without MCX_MIGRATION_DATABASE_URL, the least-privilege login starts on a migrated database and says why it cannot migrate one that is not', async () => {
    const node = await startProduction({ DATABASE_URL: nodeUrl });
    await node.close();
    const owner = connect(ownerUrl);
    const [last] = await owner<{ id: number }[]>`select max(id)::int as id from drizzle.__drizzle_migrations`;
    const [removed] = await owner`delete from drizzle.__drizzle_migrations where id = ${last!.id} returning *`;
    try {
      await expect(startProduction({ DATABASE_URL: nodeUrl })).rejects.toMatchObject({
        code: 'MIGRATIONS_NOT_PERMITTED',
        message: expect.stringContaining(`1 migration is pending and "${rb.node}" may not apply them: run them as the schema owner`),
      });
    } finally {
      await owner`insert into drizzle.__drizzle_migrations ${owner(removed!)}`;
      await owner.end();
    }
  });
});
