// Two replicas of one force's node (the production build, one database) behind a small
// round-robin proxy that behaves like a Kubernetes Service with readiness: it routes only to
// replicas whose /readyz passes, and a connection refused is retried on the other one. Under a
// steady load of investigator reads and peer reads, one replica is restarted gracefully (SIGTERM,
// wait for it to exit, start it again): no request fails, the audit chain both replicas appended
// to verifies with `mcx audit verify`, and a peer token used at one replica is refused at the other.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createFreshDatabase, runMigrations } from '@mcx/db';
import { nodeLoginUrl, testAdminUrl } from '@mcx/db/testing';
import { PEER_HISTORY, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { generateNodeKeys, manifestKeys, writeNodeKeys, type NodeKeys } from '@mcx/node';
import { addMember, exportPublicKeyPem, generateSigningKey, initManifest, signManifest, signNodeToken } from '@mcx/signing';

import { AUDIT_CHECKPOINT } from '../testkit/audit.js';
import { freePort } from '../testkit/federation.js';
import { compiledBuild, mcxCompiled, startCompiledNode, type CompiledBuild, type CompiledNode } from './compiled.js';

const ISSUER = 'https://idp.wmp.test';
const AUDIENCE = 'api://mcx-wmp';

interface Replica {
  name: string;
  port: number;
  ready: boolean;
  probing: boolean;
  failures: number;
  served: number;
  node: CompiledNode | null;
  agent: http.Agent;
}

/** Without the hop-by-hop headers (RFC 9110, 7.6.1): each connection of the proxy is its own. */
function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...headers };
  for (const h of ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection']) delete out[h];
  return out;
}

/** Like a Service: round robin over the replicas whose readiness passes; a refused connection is tried on the other. */
class Proxy {
  private next = 0;
  /** Upstream errors, for a failing test's message. */
  readonly log: string[] = [];
  private poll: NodeJS.Timeout | null = null;
  server: http.Server;
  constructor(readonly replicas: Replica[]) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.forward(req, Buffer.concat(chunks), res, 0));
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    // The readiness probe, as a kubelet's (scaled down): every 100 ms with a 2 s timeout; one
    // success puts a replica in, two failures in a row take it out.
    this.poll = setInterval(() => {
      for (const r of this.replicas) {
        if (r.probing) continue;
        r.probing = true;
        const result = (ok: boolean) => {
          r.probing = false;
          r.failures = ok ? 0 : r.failures + 1;
          if (ok) r.ready = true;
          else if (r.failures >= 2) r.ready = false;
        };
        const probe = http.get({ host: '127.0.0.1', port: r.port, path: '/readyz', timeout: 2000, agent: false }, (res) => {
          res.resume();
          result(res.statusCode === 200);
        });
        probe.on('timeout', () => probe.destroy());
        probe.on('error', () => result(false));
      }
    }, 100);
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  private pick(exclude?: Replica): Replica | undefined {
    const ready = this.replicas.filter((r) => r.ready && r !== exclude);
    return ready.length ? ready[this.next++ % ready.length] : undefined;
  }
  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, attempt: number, exclude?: Replica): void {
    const target = this.pick(exclude);
    if (!target) {
      res.writeHead(503).end('no replica ready');
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: target.agent },
      (answer) => {
        target.served++;
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      this.log.push(`${target.name}: ${err.code ?? err.message} (headers sent: ${res.headersSent})`);
      if (err.code === 'ECONNREFUSED' && attempt === 0) this.forward(req, body, res, 1, target);
      else if (!res.headersSent) res.writeHead(502).end(`upstream ${target.name}: ${err.code ?? err.message}`);
      else res.destroy();
    });
    upstream.end(body);
  }
  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    for (const r of this.replicas) r.agent.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let build: CompiledBuild;
let replicas: Replica[];
let proxy: Proxy;
let proxyUrl: string;
let env: Record<string, string>;
let gmp: NodeKeys;
let wmp: NodeKeys;
let userToken: (roles: string[], extra?: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-replicas-'));
  const owner = await createFreshDatabase(testAdminUrl(), 'mcx_replicas');
  // The two replicas' identity provider (an inline key set: MCX_ENV=test allows it).
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const jwk = { ...(await exportJWK(publicKey)), alg: 'EdDSA', use: 'sig' };
  const kid = await calculateJwkThumbprint(jwk);
  userToken = (roles, extra = {}) =>
    new SignJWT({ roles, ...extra })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(String(extra.sub ?? 'inv-1'))
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  const issuers = [{ id: 'wmp-idp', issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [{ ...jwk, kid }] }, algorithms: ['EdDSA'] }].map(
    (i) => ({ ...i, force: 'WMP', orgKind: 'police', typ: 'at+jwt', claimMapping: 'plain' }),
  );
  writeFileSync(path.join(dir, 'issuers.json'), JSON.stringify(issuers));
  // One force's keys (both replicas hold them), GMP as the member that asks, and the manifest naming both.
  wmp = generateNodeKeys();
  gmp = generateNodeKeys();
  writeNodeKeys(path.join(dir, 'keys'), wmp);
  const operator = generateSigningKey('manifest');
  let manifest = initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 });
  for (const [code, keys] of [
    ['WMP', wmp],
    ['GMP', gmp],
  ] as const)
    manifest = addMember(manifest, {
      code,
      name: `${code} (test)`,
      kind: 'police',
      endpoint: `https://${code.toLowerCase()}.mcx.test`,
      contact24x7: '+44 100 000 0000',
      keys: manifestKeys(keys),
      capabilities: PEER_OPERATIONS.map((op) => op.name),
    });
  writeFileSync(path.join(dir, 'operator.pub.pem'), exportPublicKeyPem(operator));
  writeFileSync(path.join(dir, 'manifest.jws'), signManifest(manifest, operator));
  writeFileSync(path.join(dir, 'audit.pub.pem'), exportPublicKeyPem(wmp.auditCheckpoint));

  [build] = await Promise.all([compiledBuild(), runMigrations(owner)]);
  env = {
    MCX_ENV: 'test',
    MCX_FORCE_CODE: 'WMP',
    HOST: '127.0.0.1',
    DATABASE_URL: await nodeLoginUrl(owner),
    MCX_DATA_DIR: dir,
    MCX_KEYS_DIR: path.join(dir, 'keys'),
    MCX_ISSUERS_FILE: path.join(dir, 'issuers.json'),
    MCX_DEV_ISSUER: 'false',
    MCX_OPERATOR_PUBLIC_KEY_FILE: path.join(dir, 'operator.pub.pem'),
    MCX_MANIFEST_FILE: path.join(dir, 'manifest.jws'),
  };
  replicas = await Promise.all(
    ['a', 'b'].map(async (name) => ({
      name,
      port: await freePort(),
      ready: false,
      probing: false,
      failures: 0,
      served: 0,
      node: null,
      agent: new http.Agent({ keepAlive: true }),
    })),
  );
  await Promise.all(replicas.map(async (r) => (r.node = await startCompiledNode(build, { ...env, PORT: String(r.port) }))));
  proxy = new Proxy(replicas);
  proxyUrl = await proxy.listen();
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all((replicas ?? []).map((r) => r.node?.stop()));
});

const until = async (what: string, check: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** A peer read from GMP, signed with GMP's peer-token key, for `to` (the proxy or one replica). */
function peerRead(to: string, token = peerToken()) {
  return fetch(new URL(PEER_PATH, to), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: PEER_HISTORY.hash, variables: PEER_VARIABLES }),
  });
}
const PEER_VARIABLES = { keys: [{ kind: 'nhs', strength: 'strong', keyVersion: 'k1', key: 'A'.repeat(43) }] };
function peerToken(): string {
  return signNodeToken(
    {
      iss: 'GMP',
      aud: peerAudience('WMP'),
      ttlSec: 30,
      claims: {
        act: { sub: 'inv-7', iss: 'https://login.example/gmp', org: 'GMP', org_kind: 'police', role: 'investigator' },
        purpose: 'MISSING_LIVE_SEARCH',
        case_ref: 'GMP-26-1',
        caller_entry: 'GMP:1',
        req_hash: requestHash(PEER_HISTORY.hash, PEER_VARIABLES),
      },
    },
    gmp.peerToken,
  );
}

it('one replica restarted gracefully under 20 requests a second: no request fails, the audit chain verifies, a peer token is used once across replicas', async () => {
  await until('both replicas ready', () => replicas.every((r) => r.ready));
  const investigator = await userToken(['investigator'], { mcx_token_kind: 'user' });
  const failures: string[] = [];
  let sent = 0;
  let answered = 0;
  const inFlight = new Set<Promise<void>>();
  const one = async (n: number) => {
    try {
      if (n % 2 === 0) {
        const res = await fetch(`${proxyUrl}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${investigator}`,
            'x-mcx-purpose': 'MISSING_LIVE_SEARCH',
            'x-mcx-case-ref': 'WMP-26-1001',
          },
          body: JSON.stringify({ query: '{ localEpisodes(first: 5) { nodes { id } } }' }),
        });
        const body = (await res.json()) as { data?: unknown; errors?: unknown };
        if (res.status !== 200 || body.errors || !body.data) failures.push(`read ${n}: ${res.status} ${JSON.stringify(body)}`);
      } else {
        const res = await peerRead(proxyUrl);
        const body = (await res.json()) as { receipt?: string; error?: unknown };
        if (res.status !== 200 || typeof body.receipt !== 'string') failures.push(`peer read ${n}: ${res.status} ${JSON.stringify(body)}`);
      }
      answered++;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      failures.push(`request ${n}: ${(err as Error).message} (${cause?.code ?? cause?.message ?? '?'}) ${proxy.log.join('; ')}`);
    }
  };
  const load = setInterval(() => {
    const p = one(sent++);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, 50);
  try {
    // Both replicas take their share first.
    await until('both replicas serving', () => replicas.every((r) => r.served >= 10));
    // The rollout: SIGTERM, wait for the process to exit, start it again on the same port.
    const [a] = replicas;
    expect(await a!.node!.stop('SIGTERM')).toBe(0);
    a!.node = null;
    await until('the proxy to see replica a gone', () => !a!.ready);
    a!.node = await startCompiledNode(build, { ...env, PORT: String(a!.port) });
    await until('replica a ready again', () => a!.ready);
    const servedAfterRestart = a!.served;
    await until('the restarted replica to serve again', () => a!.served >= servedAfterRestart + 10);
  } finally {
    clearInterval(load);
    await Promise.all([...inFlight]);
  }
  expect(failures).toEqual([]);
  expect(answered).toBe(sent);
  expect(sent).toBeGreaterThan(100);

  // The audit chain both replicas appended to, checkpointed and exported through the proxy, verified offline.
  const auditor = await userToken(['auditor'], { mcx_token_kind: 'user', sub: 'dpo-1' });
  const graphql = async (query: string) => {
    const res = await fetch(`${proxyUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auditor}` },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data: Record<string, unknown> };
  };
  expect((await graphql(AUDIT_CHECKPOINT.loc!.source.body)).data.auditCheckpoint).toMatchObject({ size: expect.any(Number) });
  const { auditExport } = (await graphql('{ auditExport }')).data as { auditExport: string };
  const exportFile = path.join(env.MCX_DATA_DIR!, 'export.jsonl');
  writeFileSync(exportFile, auditExport);
  expect(auditExport.split('\n').length).toBeGreaterThan(sent);
  const verified = await mcxCompiled(
    build,
    ['audit', 'verify', exportFile, '--public-key', path.join(env.MCX_DATA_DIR!, 'audit.pub.pem')],
    {},
  );
  expect(verified).toMatch(/ok/i);

  // A peer token answered by one replica is refused by the other: the used token ids are in PostgreSQL.
  const token = peerToken();
  const [a, b] = replicas.map((r) => `http://127.0.0.1:${r.port}`);
  expect((await peerRead(a!, token)).status).toBe(200);
  const replay = await peerRead(b!, token);
  expect(replay.status).toBe(401);
  expect(await replay.json()).toMatchObject({ error: { code: 'NODE_TOKEN_REPLAYED' } });
}, 120_000);
