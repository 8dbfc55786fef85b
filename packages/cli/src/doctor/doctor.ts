import { readFileSync } from 'node:fs';

import postgres from 'postgres';

import type { IssuerConfig } from '@mcx/auth';
import type { Config } from '@mcx/node';
import type { TrustManifest } from '@mcx/signing';

/** One thing `mcx doctor` checked: what, whether it holds, and when not, what to do. */
export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const RUNBOOK = 'deploy/runbook.md';

/** Why a fetch failed, by its code (ECONNREFUSED, a TLS verification code), never a body. */
function cause(err: unknown): string {
  const c = (err as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? (err instanceof Error ? err.name : String(err));
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: reported by the caller as a wrong answer.
  }
  return { status: res.status, body };
}

/** Checks a node's configuration end to end; every failure carries its fix. Never throws. */
export async function diagnose(env: Record<string, string | undefined>, opts: { timeoutMs?: number } = {}): Promise<Finding[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const found: Finding[] = [];
  const ok = (check: string, detail: string) => found.push({ check, ok: true, detail });
  const fail = (check: string, detail: string, fix: string) => found.push({ check, ok: false, detail, fix });

  const { parseConfig, ConfigError, loadNodeKeys } = await import('@mcx/node');
  let config: Config;
  try {
    config = parseConfig(env);
    ok('configuration', `MCX_ENV=${config.env}, force ${config.forceCode}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) fail('configuration', p, 'set it in the environment file (.env.example and the README, "Configuration")');
    return found;
  }

  await checkDatabase(config, ok, fail);

  try {
    await loadNodeKeys(config.keysDir);
    ok('node keys', `record, peer-token and audit-checkpoint keys in ${config.keysDir}`);
  } catch (err) {
    fail('node keys', `${(err as Error).message}`, `generate them: mcx keys generate --dir ${config.keysDir} (or mcx node init)`);
  }

  await checkIssuers(config, timeoutMs, ok, fail);
  const manifest = await checkManifest(config, ok, fail);
  if (manifest) await checkMembership(config, manifest, ok, fail);

  // Endpoints are shown without any user name or password they carry.
  const { shownEndpoint } = await import('@mcx/signing');
  if (config.linkage) {
    const linkageUrl = shownEndpoint(config.linkage.url);
    try {
      const res = await getJson(`${config.linkage.url.replace(/\/$/, '')}/healthz`, timeoutMs);
      if (res.status === 200) ok('linkage service', `${linkageUrl} answers /healthz`);
      else
        fail(
          'linkage service',
          `${linkageUrl}/healthz answered ${res.status}`,
          'ask the federation operator: its linkage service is not healthy',
        );
    } catch (err) {
      fail(
        'linkage service',
        `${linkageUrl} unreachable (${cause(err)})`,
        'check MCX_LINKAGE_URL and that this host may reach it (egress, DNS, proxy); a private CA: NODE_EXTRA_CA_CERTS',
      );
    }
  }
  if (manifest) {
    await Promise.all(
      manifest.members
        .filter((m) => m.code !== config.forceCode)
        .map(async (m) => {
          // Asked as the node asks: a user name or password in the endpoint is never sent (the node sends its node token), nor shown.
          const url = `${shownEndpoint(m.endpoint).replace(/\/$/, '')}/healthz`;
          try {
            const res = await getJson(url, timeoutMs);
            if (res.status === 200) ok(`member ${m.code}`, `${url} answers`);
            else
              fail(
                `member ${m.code}`,
                `${url} answered ${res.status}`,
                `tell ${m.code} (24/7 contact in the manifest); its node is up but not healthy`,
              );
          } catch (err) {
            fail(
              `member ${m.code}`,
              `${url} unreachable (${cause(err)})`,
              `check egress from this host to ${shownEndpoint(m.endpoint)}; if it is open, tell ${m.code} (24/7 contact in the manifest)`,
            );
          }
        }),
    );
  }
  return found;
}

type Ok = (check: string, detail: string) => void;
type Fail = (check: string, detail: string, fix: string) => void;

async function checkDatabase(config: Config, ok: Ok, fail: Fail): Promise<void> {
  if (!config.databaseUrl) {
    ok('database', 'the embedded database (development)');
    return;
  }
  const { commitDurability, durabilityFix, describeDurability, inspectLogin, isDurable, migrationStatus, AUDIT_TABLES } =
    await import('@mcx/db');
  const sql = postgres(config.databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [who] = await sql<{ login: string; db: string }[]>`select session_user::text as login, current_database()::text as db`;
    ok('database', `reachable: database ${who!.db} as ${who!.login}`);
    // Audit entries must be on disk before the read they record is answered (a token's use rides on that flush too).
    const durability = await commitDurability(sql);
    if (!isDurable(durability))
      fail(
        'durability',
        `${describeDurability(durability)}: an audit entry could be lost in a crash after its read was answered`,
        `${durabilityFix(durability)} (${RUNBOOK}, "Database")`,
      );
    else ok('durability', describeDurability(durability));
    const inspection = await inspectLogin(config.databaseUrl);
    if (inspection.problems.length === 0) ok('database login', `${inspection.login} has only the application's grants`);
    else
      fail(
        'database login',
        `DATABASE_URL logs in as "${inspection.login}", ${inspection.problems.join('; ')}`,
        `log in as the node's own role, a member of ${config.dbRole} only (${RUNBOOK}, "Database roles"; mcx node init writes database.sql)`,
      );
    const [member] = await sql<
      { m: boolean | null }[]
    >`select pg_has_role(session_user, oid, 'MEMBER') as m from pg_roles where rolname = ${config.dbRole}`;
    if (member?.m) ok('pool role', `the login may act as ${config.dbRole}`);
    else
      fail(
        'pool role',
        `the login cannot SET ROLE ${config.dbRole}${member ? '' : ' (no such role)'}`,
        `as a superuser: GRANT ${config.dbRole} TO "${who!.login}"; (the first migration creates ${config.dbRole})`,
      );
    const status = await migrationStatus(sql);
    if (status.current) ok('migrations', `${status.applied} of ${status.expected} applied`);
    else
      fail(
        'migrations',
        `${status.applied} of ${status.expected} applied`,
        'run mcx db migrate with MCX_MIGRATION_DATABASE_URL set to the schema owner (LOGIN CREATEROLE)',
      );
    if (status.current && member?.m) {
      const missing: string[] = [];
      for (const table of AUDIT_TABLES)
        for (const privilege of ['SELECT', 'INSERT'])
          if (!(await sql<{ p: boolean }[]>`select has_table_privilege(${config.dbRole}, ${table}, ${privilege}) as p`)[0]!.p)
            missing.push(`${privilege} on ${table}`);
      if (missing.length === 0) ok('grants', `${config.dbRole} may read and append the audit tables`);
      else
        fail(
          'grants',
          `${config.dbRole} lacks ${missing.join(', ')}`,
          'run mcx db migrate as the schema owner (the migrations grant them)',
        );
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    fail(
      'database',
      `DATABASE_URL unreachable or refused (${e.code ?? 'error'}${e.message ? `: ${e.message}` : ''})`,
      `check the host, port, database name, the login and its password, and pg_hba.conf (${RUNBOOK}, "Database roles")`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function checkIssuers(config: Config, timeoutMs: number, ok: Ok, fail: Fail): Promise<void> {
  if (!config.auth.issuersFile) return;
  const { assertValidIssuerConfigs, productionIssuerProblems } = await import('@mcx/auth');
  let issuers: IssuerConfig[];
  try {
    issuers = JSON.parse(readFileSync(config.auth.issuersFile, 'utf8')) as IssuerConfig[];
    assertValidIssuerConfigs(issuers);
  } catch (err) {
    fail('issuers', (err as Error).message, `fix ${config.auth.issuersFile} (${RUNBOOK}, "Issuers"; examples in deploy/issuers/)`);
    return;
  }
  if (config.env === 'production')
    for (const p of productionIssuerProblems(issuers)) fail('issuers', p, `fix ${config.auth.issuersFile} (${RUNBOOK}, "Issuers")`);
  for (const issuer of issuers) {
    if (!issuer.jwksUrl) continue;
    if (config.env === 'production' && !issuer.jwksUrl.startsWith('https://')) continue;
    try {
      const res = await getJson(issuer.jwksUrl, timeoutMs);
      const keys = (res.body as { keys?: unknown } | null)?.keys;
      if (res.status === 200 && Array.isArray(keys) && keys.length > 0) ok(`issuer ${issuer.id}`, `JWKS fetched: ${keys.length} keys`);
      else
        fail(
          `issuer ${issuer.id}`,
          `${issuer.jwksUrl} answered ${res.status} without a key set`,
          "check jwksUrl against the provider's discovery document (jwks_uri)",
        );
    } catch (err) {
      fail(
        `issuer ${issuer.id}`,
        `JWKS ${issuer.jwksUrl} not fetched over TLS (${cause(err)})`,
        'check jwksUrl and egress to it; a certificate from a private CA: NODE_EXTRA_CA_CERTS=<the CA PEM> for the node and for mcx doctor',
      );
    }
  }
}

async function checkManifest(config: Config, ok: Ok, fail: Fail): Promise<TrustManifest | null> {
  if (!config.trust) return null;
  const { loadVerifyKey, manifestPublicationProblems, verifyManifest } = await import('@mcx/signing');
  let jws: string;
  try {
    jws = readFileSync(config.trust.manifestFile, 'utf8').trim();
  } catch {
    fail('manifest', `cannot read ${config.trust.manifestFile}`, 'get manifest.jws from the federation operator');
    return null;
  }
  // Read without trust first, so membership can still be checked when only the dates are wrong.
  let payload: TrustManifest | null = null;
  try {
    payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as TrustManifest;
  } catch {
    fail('manifest', `${config.trust.manifestFile} is not a signed manifest`, 'get manifest.jws from the federation operator');
    return null;
  }
  try {
    const operator = await loadVerifyKey(config.trust.operatorPublicKeyFile, 'manifest');
    const { manifest, status } = verifyManifest(jws, operator, { now: new Date(), highestVersionSeen: 0 });
    if (status === 'valid')
      ok('manifest', `version ${manifest.version}, signed by the pinned operator key, valid until ${manifest.validUntil}`);
    else
      fail(
        'manifest',
        `version ${manifest.version} expired at ${manifest.validUntil} (in its grace period)`,
        'ask the federation operator for a renewed manifest, then SIGHUP the node',
      );
    // Signed before such endpoints were refused: it still verifies, so a node runs on it; the operator's next edit refuses it.
    const secrets = manifestPublicationProblems(manifest);
    if (secrets.length > 0)
      fail(
        'manifest endpoints',
        `${secrets.join('; ')}: every member reads the manifest, and each node shows members' endpoints to its operators`,
        'ask the federation operator to take the user name and password out of those endpoints and sign the manifest again (members authenticate with node tokens)',
      );
    return manifest;
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    const fix =
      code === 'MANIFEST_EXPIRED' || code === 'MANIFEST_NOT_YET_VALID'
        ? "ask the federation operator for a manifest valid now (and check this host's clock: NTP), then SIGHUP the node"
        : 'get operator.pub.pem and manifest.jws from the federation operator together; never pin a key that came with the manifest only';
    fail('manifest', `${code}: ${(err as Error).message}`, fix);
    return code === 'MANIFEST_EXPIRED' || code === 'MANIFEST_NOT_YET_VALID' ? payload : null;
  }
}

async function checkMembership(config: Config, manifest: TrustManifest, ok: Ok, fail: Fail): Promise<void> {
  const member = manifest.members.find((m) => m.code === config.forceCode);
  if (!member) {
    fail(
      'membership',
      `${config.forceCode} is not a member of the manifest`,
      'send public/ (from mcx node init, or mcx keys public) to the federation operator',
    );
    return;
  }
  const { loadNodeKeys } = await import('@mcx/node');
  const keys = await loadNodeKeys(config.keysDir).catch(() => null);
  if (!keys) return;
  for (const key of [keys.record, keys.peerToken, keys.auditCheckpoint]) {
    const listed = member.keys.find((k) => k.kid === key.kid);
    if (listed?.status === 'active') ok(`key ${key.job}`, `${key.kid} is active in the manifest`);
    else
      fail(
        `key ${key.job}`,
        `${key.kid} is ${listed ? listed.status : 'not listed'} in the manifest for ${config.forceCode}`,
        `send the output of mcx keys public --dir ${config.keysDir} to the federation operator (mcx manifest add-key), or restore the keys it lists`,
      );
  }
}
