// `mcx node init` writes a force's production configuration; `mcx doctor` checks one end to end
// and names every fault with its fix. The faults are seeded for real: a superuser login on an
// unmigrated database, issuers production refuses or cannot reach, a manifest past its date that
// lists other keys, a linkage service and members that do not answer.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv, promisify } from 'node:util';

import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertValidIssuerConfigs, productionIssuerProblems, type IssuerConfig } from '@mcx/auth';
import { createFreshDatabase } from '@mcx/db';
import { testAdminUrl } from '@mcx/db/testing';
import { generateNodeKeys, loadNodeKeys, manifestKeys } from '@mcx/node';
import {
  addMember,
  canonicalJson,
  exportPublicKeyPem,
  generateSigningKey,
  initManifest,
  signManifest,
  type TrustManifest,
} from '@mcx/signing';
import { craftJws } from '@mcx/signing/testing';

import { serveJwksOverHttps } from '../testkit/https-jwks.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

async function mcx(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createNetServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const member = (code: string, endpoint: string, keys: ReturnType<typeof manifestKeys>) => ({
  code,
  name: `${code} Police`,
  kind: 'police' as const,
  endpoint,
  contact24x7: '+44 100 000 0000',
  keys,
  capabilities: [],
});

describe('mcx node init and mcx doctor', () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mcx-init-')), 'wmp');
  let unhealthy: Server;

  beforeAll(async () => {
    unhealthy = createHttpServer((_req, res) => {
      res.statusCode = 503;
      res.end('{}');
    });
    await new Promise<void>((resolve) => unhealthy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => unhealthy?.close());

  it('node init writes keys, an annotated production env file, issuers files to edit, the DBA SQL and the public material', async () => {
    const out = await mcx(['node', 'init', dir, '--force', 'WMP', '--name', 'West Midlands Police']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const keys = await loadNodeKeys(path.join(dir, 'keys'));
    expect(statSync(path.join(dir, 'keys/record.pem')).mode & 0o777).toBe(0o600);
    const env = parseEnv(readFileSync(path.join(dir, 'mcx.env'), 'utf8'));
    expect(env).toMatchObject({
      MCX_ENV: 'production',
      MCX_FORCE_CODE: 'WMP',
      MCX_KEYS_DIR: path.join(path.resolve(dir), 'keys'),
      MCX_ISSUERS_FILE: path.join(path.resolve(dir), 'issuers.json'),
      DATABASE_URL: 'postgres://mcx_wmp_node:REPLACE@db.internal:5432/mcx_wmp',
    });
    for (const idp of ['entra-id', 'keycloak']) {
      const issuers = JSON.parse(readFileSync(path.join(dir, `issuers.${idp}.json`), 'utf8')) as IssuerConfig[];
      expect(() => assertValidIssuerConfigs(issuers)).not.toThrow();
      expect(productionIssuerProblems(issuers)).toEqual([]);
      expect(issuers[0]!.force).toBe('WMP');
    }
    const sql = readFileSync(path.join(dir, 'database.sql'), 'utf8');
    expect(sql).toContain('CREATE ROLE mcx_owner LOGIN CREATEROLE;');
    expect(sql).toContain('CREATE DATABASE mcx_wmp OWNER mcx_owner;');
    expect(sql).toContain('REVOKE CONNECT ON DATABASE mcx_wmp FROM PUBLIC;');
    expect(sql).toContain('CREATE ROLE mcx_wmp_node LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS IN ROLE mcx_app;');
    expect(sql).toContain('GRANT CONNECT ON DATABASE mcx_wmp TO mcx_wmp_node;');
    expect(sql).not.toMatch(/PASSWORD '/i);
    const published = JSON.parse(readFileSync(path.join(dir, 'public/wmp.keys.json'), 'utf8')) as { kid: string }[];
    expect(published.map((k) => k.kid)).toEqual([keys.record.kid, keys.peerToken.kid, keys.auditCheckpoint.kid]);
    expect(readFileSync(path.join(dir, 'public/audit.pub.pem'), 'utf8')).toBe(exportPublicKeyPem(keys.auditCheckpoint));
    expect(readFileSync(path.join(dir, 'public/add-member.sh'), 'utf8')).toContain('--code WMP --name "West Midlands Police"');
    // Never over an existing configuration.
    const again = await mcx(['node', 'init', dir, '--force', 'WMP']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`mcx: ${dir} is not empty: mcx node init never overwrites\n`);
  });

  it('doctor reports each seeded fault with its fix, and passes what is right', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const keySet = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
    const trusted = await serveJwksOverHttps(keySet);
    const untrusted = await serveJwksOverHttps(keySet);
    const issuer = (id: string, jwks: Record<string, unknown>) => ({
      id,
      issuer: `https://${id}.wmp.test`,
      audience: 'api://mcx-wmp',
      algorithms: ['EdDSA'],
      force: 'WMP',
      orgKind: 'police',
      typ: 'at+jwt',
      claimMapping: 'plain',
      ...jwks,
    });
    const down = await closedPort();
    writeFileSync(
      path.join(dir, 'issuers.json'),
      JSON.stringify([
        issuer('good', { jwksUrl: trusted.url }),
        issuer('plainhttp', { jwksUrl: `http://127.0.0.1:${down}/keys` }),
        issuer('inline', { jwks: keySet }),
        issuer('gone', { jwksUrl: `https://127.0.0.1:${down}/keys` }),
        issuer('privateca', { jwksUrl: untrusted.url }),
      ]),
    );
    // A manifest past its date (in its grace period) that lists keys other than this node's.
    const operator = generateSigningKey('manifest');
    writeFileSync(path.join(dir, 'operator.pub.pem'), exportPublicKeyPem(operator));
    let manifest: TrustManifest = initManifest({
      operatorKid: operator.kid,
      validDays: 30,
      graceDays: 30,
      now: new Date(Date.now() - 40 * 86_400_000),
    });
    manifest = addMember(manifest, member('WMP', 'https://mcx.wmp.example', manifestKeys(generateNodeKeys())));
    manifest = addMember(manifest, member('GMP', `http://127.0.0.1:${down}`, manifestKeys(generateNodeKeys())));
    const sick = unhealthy.address();
    manifest = addMember(
      manifest,
      member('MPS', `http://127.0.0.1:${typeof sick === 'object' && sick ? sick.port : 0}`, manifestKeys(generateNodeKeys())),
    );
    writeFileSync(path.join(dir, 'manifest.jws'), signManifest(manifest, operator));
    // The superuser, on a database nothing has migrated; mcx_app exists, as the DBA's SQL makes it.
    const admin = postgres(testAdminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`DO $$ BEGIN CREATE ROLE mcx_app NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await admin.end();
    const database = await createFreshDatabase(testAdminUrl(), 'mcx_doctor');
    // A DBA who turned the flush off for the node's database.
    const owner = postgres(database, { max: 1, onnotice: () => {} });
    await owner.unsafe(`ALTER DATABASE "${new URL(database).pathname.slice(1)}" SET synchronous_commit = off`);
    await owner.end();
    const env = {
      DATABASE_URL: database,
      MCX_LINKAGE_URL: `https://127.0.0.1:${down}`,
      NODE_EXTRA_CA_CERTS: trusted.caFile,
    };

    const result = await mcx(['doctor', '--env-file', path.join(dir, 'mcx.env'), '--timeout-ms', '3000'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const out = result.stdout;
    const failure = (check: string, detail: RegExp, fix: string) =>
      expect(out).toMatch(new RegExp(`^FAIL  ${check}: ${detail.source}\\n      fix: ${fix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));

    // 1, 2: the login and the migrations.
    failure('database login', /DATABASE_URL logs in as "[a-z_]+", a superuser/, "log in as the node's own role, a member of mcx_app only");
    failure(
      'migrations',
      /0 of \d+ applied/,
      'run mcx db migrate with MCX_MIGRATION_DATABASE_URL set to the schema owner (LOGIN CREATEROLE)',
    );
    failure(
      'durability',
      /synchronous_commit is off \(set by the database\): an audit entry could be lost in a crash after its read was answered/,
      `ALTER DATABASE ${new URL(database).pathname.slice(1)} RESET synchronous_commit;`,
    );
    // 3-6: issuers production refuses, or whose JWKS is not fetched over TLS.
    failure(
      'issuers',
      /issuer plainhttp \(https:\/\/plainhttp\.wmp\.test\): production refuses JWKS URLs over plain HTTP/,
      `fix ${path.join(path.resolve(dir), 'issuers.json')}`,
    );
    failure(
      'issuers',
      /issuer inline \(https:\/\/inline\.wmp\.test\): production refuses an inline jwks: set jwksUrl to the issuer's https JWKS \(a private CA: NODE_EXTRA_CA_CERTS\)/,
      `fix ${path.join(path.resolve(dir), 'issuers.json')}`,
    );
    failure(
      'issuer gone',
      /JWKS https:\/\/127\.0\.0\.1:\d+\/keys not fetched over TLS \(ECONNREFUSED\)/,
      'check jwksUrl and egress to it; a certificate from a private CA: NODE_EXTRA_CA_CERTS',
    );
    failure(
      'issuer privateca',
      /JWKS https:\/\/127\.0\.0\.1:\d+\/jwks not fetched over TLS \([A-Z_]+\)/,
      'check jwksUrl and egress to it; a certificate from a private CA: NODE_EXTRA_CA_CERTS',
    );
    expect(out).toMatch(/^ok    issuer good: JWKS fetched: 1 keys$/m);
    // 7: the manifest, 8-10: this node's keys are not the ones it lists.
    failure(
      'manifest',
      /version \d+ expired at \S+ \(in its grace period\)/,
      'ask the federation operator for a renewed manifest, then SIGHUP the node',
    );
    for (const job of ['record', 'peer-token', 'audit-checkpoint'])
      failure(
        `key ${job}`,
        /\S+ is not listed in the manifest for WMP/,
        `send the output of mcx keys public --dir ${path.join(path.resolve(dir), 'keys')} to the federation operator`,
      );
    // 11-13: the linkage service and the other members.
    failure(
      'linkage service',
      /https:\/\/127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\)/,
      'check MCX_LINKAGE_URL and that this host may reach it',
    );
    failure('member GMP', /http:\/\/127\.0\.0\.1:\d+\/healthz unreachable \(ECONNREFUSED\)/, 'check egress from this host to');
    failure('member MPS', /http:\/\/127\.0\.0\.1:\d+\/healthz answered 503/, 'tell MPS (24/7 contact in the manifest)');
    expect(out).toMatch(/^ok    database: reachable: database mcx_doctor_[0-9a-f]+ as /m);
    expect(out).toMatch(/^ok    node keys: /m);
    expect(out).toMatch(/^ok    pool role: the login may act as mcx_app$/m);
    expect(out).toMatch(/^14 checks failed$/m);
  });

  it('doctor refuses a manifest the pinned operator key did not sign', async () => {
    const other = generateSigningKey('manifest');
    const manifest = addMember(
      initManifest({ operatorKid: other.kid, validDays: 30, graceDays: 7 }),
      member('WMP', 'https://mcx.wmp.example', manifestKeys(await loadNodeKeys(path.join(dir, 'keys')))),
    );
    writeFileSync(path.join(dir, 'forged.jws'), signManifest(manifest, other));
    const result = await mcx(['doctor', '--env-file', path.join(dir, 'mcx.env')], {
      DATABASE_URL: testAdminUrl(),
      MCX_MANIFEST_FILE: path.join(dir, 'forged.jws'),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAIL  manifest: MANIFEST_WRONG_SIGNER: .*\n      fix: get operator\.pub\.pem and manifest\.jws from the federation operator together/m,
    );
  });

  it('doctor names a manifest endpoint carrying a password (signed before such manifests were refused), and never prints it', async () => {
    const operator = generateSigningKey('manifest');
    writeFileSync(path.join(dir, 'leaky-operator.pub.pem'), exportPublicKeyPem(operator));
    const manifest = addMember(
      initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 }),
      member('WMP', 'https://mcx.wmp.example', manifestKeys(await loadNodeKeys(path.join(dir, 'keys')))),
    );
    const unreachable = `http://mcx:hunter2@127.0.0.1:${await closedPort()}`;
    const leaky = { ...manifest, members: [...manifest.members, member('GMP', unreachable, manifestKeys(generateNodeKeys()))] };
    // signManifest refuses it now: signed as an older operator tool would have.
    const header = { alg: 'EdDSA', kid: operator.kid, typ: 'mcx-manifest+jws' };
    writeFileSync(path.join(dir, 'leaky.jws'), craftJws(header, canonicalJson(leaky), operator.privateKey));
    const result = await mcx(['doctor', '--env-file', path.join(dir, 'mcx.env')], {
      DATABASE_URL: testAdminUrl(),
      MCX_MANIFEST_FILE: path.join(dir, 'leaky.jws'),
      MCX_OPERATOR_PUBLIC_KEY_FILE: path.join(dir, 'leaky-operator.pub.pem'),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ok    manifest: version \d+, signed by the pinned operator key/m);
    // Valid, so never also called expired.
    expect(result.stdout).not.toMatch(/^FAIL  manifest: /m);
    expect(result.stdout).toMatch(
      /^FAIL  manifest endpoints: members\[1\]\.endpoint carries a user name or password: .*\n      fix: ask the federation operator to take the user name and password out of those endpoints/m,
    );
    // Asked as the node asks it, without the credentials (nothing listens there).
    expect(result.stdout).toMatch(/^FAIL  member GMP: http:\/\/127\.0\.0\.1:\d+\/healthz unreachable \(ECONNREFUSED\)/m);
    expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2');
  });
});
