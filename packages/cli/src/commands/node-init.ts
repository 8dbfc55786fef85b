import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What `mcx node init` is told about the force; the rest has production defaults. */
export interface InitOptions {
  force: string;
  name: string;
  kind: 'police' | 'local_authority' | 'provider';
  /** The node's peer endpoint (https), as other members will call it. */
  endpoint: string;
  dbHost: string;
  /** The PostgreSQL server's port; default 5432. */
  dbPort?: number;
  /** Where the files will be on the node's host (the env file's paths); default: the directory written. */
  configPath: string;
}

/** An identity provider for the force, ready to edit: Entra ID and Keycloak (deploy/runbook.md, "Issuers"). */
function issuerTemplates(o: InitOptions): Record<'entra-id' | 'keycloak', unknown[]> {
  const f = o.force.toLowerCase();
  const roleMap = (style: (role: string) => string) =>
    Object.fromEntries(['investigator', 'publisher', 'auditor', 'operator'].map((role) => [style(role), role]));
  return {
    'entra-id': [
      {
        id: `${f}-entra`,
        issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
        audience: `api://mcx-${f}`,
        jwksUrl: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys',
        algorithms: ['RS256'],
        force: o.force,
        orgKind: o.kind,
        typ: 'JWT',
        claimMapping: 'entra',
        roleMap: roleMap((r) => `MCX.${r[0]!.toUpperCase()}${r.slice(1)}`),
      },
    ],
    keycloak: [
      {
        id: `${f}-keycloak`,
        issuer: `https://sso.${f}.example/realms/mcx`,
        audience: `mcx-${f}`,
        jwksUrl: `https://sso.${f}.example/realms/mcx/protocol/openid-connect/certs`,
        algorithms: ['RS256', 'ES256'],
        force: o.force,
        orgKind: o.kind,
        typ: 'JWT',
        claimMapping: 'plain',
        roleMap: roleMap((r) => `mcx-${r}`),
      },
    ],
  };
}

/** host:port of the PostgreSQL server, as the URLs name it. */
const dbAddress = (o: InitOptions) => `${o.dbHost}:${o.dbPort ?? 5432}`;

function envFile(o: InitOptions): string {
  const f = o.force.toLowerCase();
  const at = (file: string) => path.posix.join(o.configPath, file);
  return `# MCX node for ${o.force}, written by \`mcx node init\`. Every variable: .env.example and the README.
# Load it into the node's environment (systemd EnvironmentFile=, docker --env-file, a Kubernetes
# Secret). It holds no password: put them in where it says REPLACE, from your secret store.
MCX_ENV=production
MCX_FORCE_CODE=${o.force}
HOST=0.0.0.0
PORT=4000

# The node's own login, a member of mcx_app only (database.sql creates it; \\password sets it).
DATABASE_URL=postgres://mcx_${f}_node:REPLACE@${dbAddress(o)}/mcx_${f}
MCX_DB_POOL_MAX=10
# The schema owner, only for \`mcx db migrate\` (run it in the change window; keep it off the node).
# MCX_MIGRATION_DATABASE_URL=postgres://mcx_owner:REPLACE@${dbAddress(o)}/mcx_${f}

# The node's Ed25519 keys (keys/, mode 0600): back them up offline.
MCX_KEYS_DIR=${at('keys')}
# Copy issuers.entra-id.json or issuers.keycloak.json (or both entries, in one array) to
# issuers.json and edit it: deploy/runbook.md, "Issuers".
MCX_ISSUERS_FILE=${at('issuers.json')}
# From the federation operator, once it has added public/ to the manifest.
MCX_OPERATOR_PUBLIC_KEY_FILE=${at('operator.pub.pem')}
MCX_MANIFEST_FILE=${at('manifest.jws')}
# The federation's linkage service (https); unset: the node accepts no identity.
# MCX_LINKAGE_URL=https://linkage.mcx.example

# The purge job's erasure log: on storage backed up apart from the database (replayed after a restore).
MCX_ERASURE_LOG=/var/lib/mcx/erasures.jsonl
# Set below the container's memory limit, so the node sheds load before it is killed.
MCX_PRESSURE_MAX_RSS_BYTES=0
LOG_LEVEL=info
# An identity provider certificate from a private CA: the CA's PEM, read by Node.js at start.
# NODE_EXTRA_CA_CERTS=${at('idp-ca.pem')}
`;
}

/** The DBA's SQL: deploy/runbook.md, "Database roles" (what deploy/postgres-init.sh does for compose). */
function databaseSql(o: InitOptions): string {
  const f = o.force.toLowerCase();
  return `-- Run as a superuser with psql (\\password prompts, so no password is in a file or a log).
-- Once per PostgreSQL server (skip what exists): the schema owner, which needs CREATEROLE because
-- the first migration creates mcx_app, and the application role the node's pool acts as.
CREATE ROLE mcx_owner LOGIN CREATEROLE;
\\password mcx_owner
CREATE ROLE mcx_app NOLOGIN;

-- For ${o.force}: its database, owned by the schema owner, and the node's own login.
CREATE DATABASE mcx_${f} OWNER mcx_owner;
REVOKE CONNECT ON DATABASE mcx_${f} FROM PUBLIC;
CREATE ROLE mcx_${f}_node LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS IN ROLE mcx_app;
\\password mcx_${f}_node
GRANT CONNECT ON DATABASE mcx_${f} TO mcx_${f}_node;

-- Then, as the owner: MCX_MIGRATION_DATABASE_URL=postgres://mcx_owner:...@${dbAddress(o)}/mcx_${f} mcx db migrate
-- After the first migration you may take CREATEROLE back: ALTER ROLE mcx_owner NOCREATEROLE;
`;
}

/** Writes a force's production configuration into `dir` (which must be empty or absent); returns what it wrote. */
export async function initNode(dir: string, o: InitOptions): Promise<string[]> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: mcx node init never overwrites`);
  const { generateNodeKeys, writeNodeKeys } = await import('@mcx/node');
  const { exportPublicKeyPem } = await import('@mcx/signing');
  mkdirSync(path.join(dir, 'public'), { recursive: true, mode: 0o755 });
  const keys = generateNodeKeys();
  writeNodeKeys(path.join(dir, 'keys'), keys);
  const written = ['keys/record.pem', 'keys/peer-token.pem', 'keys/audit-checkpoint.pem'];
  const write = (file: string, text: string, mode = 0o644) => {
    writeFileSync(path.join(dir, file), text, { mode, flag: 'wx' });
    written.push(file);
  };
  write('mcx.env', envFile(o), 0o600);
  for (const [idp, issuers] of Object.entries(issuerTemplates(o))) write(`issuers.${idp}.json`, `${JSON.stringify(issuers, null, 2)}\n`);
  write('database.sql', databaseSql(o));
  // Public material only: what `mcx keys public` prints, and the member entry the operator adds.
  const publicKeys = [keys.record, keys.peerToken, keys.auditCheckpoint].map((k) => ({ job: k.job, kid: k.kid, jwk: k.jwk }));
  const code = o.force.toLowerCase();
  write(`public/${code}.keys.json`, `${JSON.stringify(publicKeys, null, 2)}\n`);
  write(
    `public/add-member.sh`,
    `# For the federation operator: adds ${o.force} to the manifest, then sign and distribute it.\nmcx manifest add-member --manifest manifest.json --code ${o.force} --name ${JSON.stringify(o.name)} \\\n  --kind ${o.kind} --endpoint ${o.endpoint} --contact "REPLACE: the 24/7 control room number" --keys ${code}.keys.json \\\n  --capabilities mcx.history/1,mcx.associateLinks/1,mcx.locations/1,mcx.pointers/1\n`,
  );
  // For the force's auditors: `mcx audit verify <export> --public-key audit.pub.pem`.
  write('public/audit.pub.pem', exportPublicKeyPem(keys.auditCheckpoint));
  return written;
}
