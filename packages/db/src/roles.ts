import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import postgres from 'postgres';

import { McxError } from '@mcx/errors';

import { APP_ROLE } from './client.js';
import { DatabaseErrorCode } from './db-errors.js';

/** The append-only tables: the application role may read and insert them, nothing else. */
export const AUDIT_TABLES = ['audit_entries', 'audit_checkpoints', 'audit_receipts', 'security_events'] as const;

/** What no role that the node's login can act as may hold on an audit table. */
const FORBIDDEN_ON_AUDIT = ['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'] as const;

/** Predefined roles that reach past table grants. */
const DANGEROUS_PREDEFINED: Record<string, string> = {
  pg_write_all_data: 'which may write every table',
  pg_execute_server_program: 'which may run programs on the database server',
  pg_write_server_files: 'which may write files on the database server',
};

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface LoginInspection {
  /** The role the URL logs in as (session_user). */
  login: string;
  /** Each way the login can change or destroy the audit tables, as a phrase; empty: least privilege. */
  problems: string[];
}

interface ReachableRole {
  oid: string;
  rolname: string;
  rolsuper: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolbypassrls: boolean;
}

/**
 * Inspects the role `url` logs in as, in that database, with every role it can become
 * (`SET ROLE`, or inherited membership): no superuser, no CREATEROLE/CREATEDB/BYPASSRLS, owner
 * of no table, schema or the database, no UPDATE/DELETE/TRUNCATE/TRIGGER on an audit table,
 * no predefined role that reaches past table grants. Opens its own connection, with no role
 * set, so it sees the login itself, not the role a pool would switch to.
 */
export async function inspectLogin(url: string): Promise<LoginInspection> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'mcx-role-check' } });
  try {
    const [who] = await sql<{ login: string }[]>`select session_user::text as login`;
    const login = who!.login;
    // pg_has_role(..., 'MEMBER'): every role this login can SET ROLE to or inherits from, itself included.
    const reach = await sql<ReachableRole[]>`
      select oid::text as oid, rolname::text as rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls
      from pg_roles where pg_has_role(session_user, oid, 'MEMBER')
      order by rolname = session_user desc, rolname`;
    const self = reach.find((r) => r.rolname === login)!;
    // A superuser is every role: nothing else needs saying.
    if (self.rolsuper) return { login, problems: ['a superuser'] };

    const oids = reach.map((r) => r.oid);
    const owned = await sql<{ owner: string; kind: string; name: string }[]>`
      select datdba::text as owner, 'database' as kind, datname::text as name from pg_database
        where datname = current_database() and datdba = any(${oids}::oid[])
      union all
      select n.nspowner::text, 'schema', n.nspname::text from pg_namespace n
        where n.nspowner = any(${oids}::oid[]) and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
      union all
      select c.relowner::text, case when c.relkind in ('r', 'p', 'f') then 'table' else 'relation' end, c.relname::text
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relowner = any(${oids}::oid[]) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
          and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
      order by 1, 2, 3`;
    // Grants on the audit tables to a role the login can become, or to PUBLIC (grantee 0), on
    // the table or on any of its columns (UPDATE on one column is enough to rewrite it); an
    // owner's own entries are left out, its ownership says more.
    const grants = await sql<{ grantee: string; tbl: string; privilege: string }[]>`
      select grantee, tbl, privilege from (
        select a.grantee::text as grantee, c.relname::text as tbl, a.privilege_type as privilege
        from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
        where n.nspname = 'public' and c.relname = any(${[...AUDIT_TABLES]}::text[])
          and a.privilege_type = any(${[...FORBIDDEN_ON_AUDIT]}::text[])
          and (a.grantee = 0 or a.grantee = any(${oids}::oid[])) and a.grantee <> c.relowner
        union
        select a.grantee::text, c.relname::text, 'column ' || a.privilege_type
        from pg_attribute att join pg_class c on c.oid = att.attrelid join pg_namespace n on n.oid = c.relnamespace, aclexplode(att.attacl) a
        where n.nspname = 'public' and c.relname = any(${[...AUDIT_TABLES]}::text[]) and att.attacl is not null
          and a.privilege_type = 'UPDATE'
          and (a.grantee = 0 or a.grantee = any(${oids}::oid[])) and a.grantee <> c.relowner
      ) g
      order by tbl, privilege`;

    const problems: string[] = [];
    for (const role of reach) {
      // pg_database_owner is the database owner's: reported as ownership of the database.
      if (role.rolname === 'pg_database_owner') continue;
      const facets: string[] = [];
      if (role.oid !== self.oid && role.rolsuper) facets.push('a superuser');
      const attributes = [role.rolcreaterole && 'CREATEROLE', role.rolcreatedb && 'CREATEDB', role.rolbypassrls && 'BYPASSRLS'].filter(
        Boolean,
      );
      if (!role.rolsuper && attributes.length > 0) facets.push(`a role with ${attributes.join(', ')}`);
      const predefined = DANGEROUS_PREDEFINED[role.rolname];
      if (predefined && role.oid !== self.oid) facets.push(predefined);
      const mine = owned.filter((o) => o.owner === role.oid);
      for (const kind of ['database', 'schema'] as const) {
        for (const o of mine.filter((m) => m.kind === kind)) facets.push(`the owner of ${kind} "${o.name}"`);
      }
      const tables = mine.filter((m) => m.kind === 'table').map((m) => m.name);
      if (tables.length > 0) {
        // Name an audit table when it is among them.
        const first = AUDIT_TABLES.find((t) => tables.includes(t)) ?? tables[0]!;
        const more = tables.length - 1;
        facets.push(`the owner of table "${first}"${more > 0 ? ` and ${more} other table${more === 1 ? '' : 's'}` : ''}`);
      }
      const relations = mine.filter((m) => m.kind === 'relation').length;
      if (relations > 0)
        facets.push(`the owner of ${relations} sequence${relations === 1 ? '' : 's'} or view${relations === 1 ? '' : 's'}`);
      const granted = describeGrants(grants.filter((g) => g.grantee === role.oid));
      if (granted) facets.push(`granted ${granted}`);
      if (facets.length > 0)
        problems.push(`${role.oid === self.oid ? '' : `which can SET ROLE to "${role.rolname}", `}${facets.join(', ')}`);
    }
    const toPublic = describeGrants(grants.filter((g) => g.grantee === '0'));
    if (toPublic) problems.push(`which, like every role (PUBLIC), is granted ${toPublic}`);
    return { login, problems };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function describeGrants(grants: { tbl: string; privilege: string }[]): string {
  const byTable = new Map<string, string[]>();
  for (const g of grants) byTable.set(g.tbl, [...(byTable.get(g.tbl) ?? []), g.privilege]);
  return [...byTable].map(([tbl, privileges]) => `${privileges.join(', ')} on "${tbl}"`).join(', ');
}

/** The refusal (or warning) for a login with problems, naming the variable it came from. */
export function privilegedLoginError(variable: string, inspection: LoginInspection): McxError {
  return new McxError(
    DatabaseErrorCode.DATABASE_LOGIN_PRIVILEGED,
    `${variable} logs in as "${inspection.login}", ${inspection.problems.join('; ')}: the node must log in as a role with only the application's grants (see deploy/runbook.md)`,
  );
}

/**
 * A SCRAM-SHA-256 verifier for `password` (RFC 5802, as PostgreSQL stores it), so that the
 * password itself never reaches the server or its statement log.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Reads a generated secret from `file`, creating it (owner-readable only) on first use. */
export function loadOrCreateSecret(file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Makes `login` the node's least-privilege login for the database behind `ownerUrl` and
 * returns the URL that logs in as it: LOGIN with `password`, no other attribute, a member of
 * mcx_app (whose grants the migrations set), CONNECT on this database. An existing role gets
 * these attributes and this password again; any other membership it was given is left for
 * `inspectLogin` to report. Run after the migrations (they create mcx_app), as a role that
 * may create roles and grant mcx_app (a superuser; or the owner that created mcx_app with CREATEROLE).
 */
export async function ensureAppLogin(ownerUrl: string, login: string, password: string): Promise<string> {
  if (!ROLE_NAME.test(login) || login === APP_ROLE)
    throw new McxError(DatabaseErrorCode.DATABASE_LOGIN_INVALID, `invalid login role name: ${login}`);
  const database = decodeURIComponent(new URL(ownerUrl).pathname.slice(1));
  if (!ROLE_NAME.test(database)) throw new McxError(DatabaseErrorCode.DATABASE_LOGIN_INVALID, `invalid database name: ${database}`);
  const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '${scramVerifier(password)}'`;
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      // Two nodes provisioning the same database (replicas starting together) take turns.
      await tx`select pg_advisory_xact_lock(7364812)`;
      // Roles are cluster-wide and several databases may provision at once: tolerate a race.
      await tx.unsafe(
        `DO $mcx$ BEGIN CREATE ROLE "${login}" ${attributes}; EXCEPTION WHEN duplicate_object OR unique_violation THEN ALTER ROLE "${login}" ${attributes}; END $mcx$`,
      );
      await tx.unsafe(`GRANT ${APP_ROLE} TO "${login}"`);
      // Only this force's node (and the owner) may connect to this force's database.
      await tx.unsafe(`REVOKE CONNECT ON DATABASE "${database}" FROM PUBLIC`);
      await tx.unsafe(`GRANT CONNECT ON DATABASE "${database}" TO "${login}"`);
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
  const u = new URL(ownerUrl);
  u.username = login;
  u.password = encodeURIComponent(password);
  return u.toString();
}
