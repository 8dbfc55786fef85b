import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { freshMigratedDatabase } from '@mcx/db/testing';
import { blindAll } from '@mcx/linkage';
import { signManifest, signNodeToken, type SigningKey } from '@mcx/signing';

import { parseLinkageConfig } from './config.js';
import { ReplayStore } from './rate-limit.js';
import { startLinkageService, type RunningLinkageService } from './server.js';
import { freshLinkageDatabase, linkageTestFiles } from './testkit-db.js';
import { captureLogger, signedTestManifest, TEST_KEYS, testClock, testManifest } from './testkit.js';

// Two (or more) real linkage service replicas on loopback over one PostgreSQL database, as
// behind a load balancer: what one replica has counted, seen or accepted binds the others.

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** Every element sent or received, to prove that none reaches a log line. */
const seen: string[] = [];
const elements = (n: number) => {
  const blinded = blindAll(Array.from({ length: n }, (_, i) => `v1|test|${i}`)).blinded.map(b64);
  seen.push(...blinded);
  return blinded;
};

let databaseUrl: string;
let files: ReturnType<typeof linkageTestFiles>;
const clock = testClock();
const running: RunningLinkageService[] = [];

beforeEach(async () => {
  databaseUrl = await freshLinkageDatabase();
  files = linkageTestFiles();
  clock.ms = testClock().ms;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** A replica with its own manifest file (a manifest version, 5 by default) over the shared database. */
async function replica(opts: { manifestVersion?: number; env?: Record<string, string> } = {}) {
  const manifestFile = path.join(files.dir, `manifest-${Math.random().toString(36).slice(2)}.jws`);
  writeFileSync(manifestFile, signManifest({ ...testManifest(), version: opts.manifestVersion ?? 5 }, TEST_KEYS.operator));
  const log = captureLogger();
  const config = parseLinkageConfig({
    PORT: '0',
    DATABASE_URL: databaseUrl,
    MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator,
    MCX_MANIFEST_FILE: manifestFile,
    MCX_LINKAGE_KEYS_FILE: files.keys,
    ...opts.env,
  });
  const service = await startLinkageService(config, log.logger, clock.now);
  running.push(service);
  const token = (iss = 'WMP', key: SigningKey<'peer-token'> = TEST_KEYS.wmpPeer) =>
    signNodeToken({ iss, aud: 'mcx-linkage', ttlSec: 30 }, key, clock.now());
  const post = async (blinded: string[], auth = token()) => {
    const res = await fetch(`${service.url}/v1/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
      body: JSON.stringify({ blinded }),
    });
    const json = (await res.json()) as Record<string, any>;
    if (Array.isArray(json.evaluated)) seen.push(...(json.evaluated as string[]));
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json };
  };
  const calls = () => log.lines.filter((l) => l.event === 'linkage.evaluate');
  return { service, manifestFile, token, post, calls, log };
}

describe('linkage service replicas over one PostgreSQL', () => {
  it("a member's burst spent at replica A is not available again at replica B (429 there, for that member only)", async () => {
    const env = { MCX_LINKAGE_RATE_PER_SECOND: '1', MCX_LINKAGE_BURST: '20', MCX_LINKAGE_MAX_BATCH: '20' };
    const a = await replica({ env });
    const b = await replica({ env });
    expect((await a.post(elements(20))).status).toBe(200);

    const limited = await b.post(elements(1));
    expect([limited.status, limited.json.error.code, limited.retryAfter]).toEqual([429, 'RATE_LIMITED', '1']);
    expect(b.calls()).toEqual([expect.objectContaining({ member: 'WMP', count: 1, outcome: 'rate_limited', status: 429 })]);
    // Another member's bucket is its own.
    expect((await b.post(elements(20), b.token('GMP', TEST_KEYS.gmpPeer))).status).toBe(200);
    // The refill is shared too: one second gives one key, at either replica, once.
    clock.advance(1);
    expect((await b.post(elements(1))).status).toBe(200);
    expect((await a.post(elements(1))).status).toBe(429);
    // The call log still names member and count, never an element.
    const logged = [...a.log.raw, ...b.log.raw].join('\n');
    expect(seen.length).toBeGreaterThan(40);
    for (const element of seen) expect(logged).not.toContain(element);
  });

  it('concurrent calls at two replicas never spend more than the burst between them', async () => {
    const env = { MCX_LINKAGE_RATE_PER_SECOND: '1', MCX_LINKAGE_BURST: '12', MCX_LINKAGE_MAX_BATCH: '12' };
    const [a, b] = await Promise.all([replica({ env }), replica({ env })]);
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).post(elements(1))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(12);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12);
  });

  it('a node token used at replica A is refused as a replay at replica B, and the sweep never reopens it', async () => {
    const a = await replica();
    const b = await replica();
    const token = a.token();
    expect((await a.post(elements(2), token)).status).toBe(200);
    const replayed = await b.post(elements(2), token);
    expect([replayed.status, replayed.json.error.code]).toEqual([401, 'NODE_TOKEN_REPLAYED']);
    expect(b.calls()).toEqual([expect.objectContaining({ member: null, outcome: 'refused', status: 401, code: 'NODE_TOKEN_REPLAYED' })]);
    // A fresh token from the same member is served at B.
    expect((await b.post(elements(2))).status).toBe(200);

    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const held = async () => (await sql<{ n: number }[]>`select count(*)::int as n from linkage_token_jtis`)[0]!.n;
      expect(await held()).toBe(2);
      expect(await a.service.app.sweep()).toBe(0); // not expired yet
      clock.advance(30 + 5 + 1); // past the token's life and the leeway
      expect(await a.service.app.sweep()).toBe(2);
      expect(await held()).toBe(0);
      const late = await b.post(elements(2), token);
      expect([late.status, late.json.error.code]).toEqual([401, 'NODE_TOKEN_EXPIRED']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("a token's use is seen at once by the other replica, and leaves the connection's later commits (the bucket take) durable", async () => {
    const one = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // The connection's own setting, whatever the server's default: the same after the insert.
      await one`set synchronous_commit = 'remote_write'`;
      const store = new ReplayStore({ db: drizzle({ client: one }), sql: one });
      const expires = new Date(clock.now().getTime() + 30_000);
      expect(await store.firstUse('WMP', 'unflushed-1', expires)).toBe(true);
      expect(await store.firstUse('WMP', 'unflushed-1', expires)).toBe(false);
      const [after] = await one<{ synchronous_commit: string }[]>`show synchronous_commit`;
      expect(after!.synchronous_commit).toBe('remote_write');
      // A replica over the same database refuses the token as a replay.
      const b = await replica();
      const token = b.token();
      const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
      expect(await store.firstUse('WMP', jti.jti, expires)).toBe(true);
      const replayed = await b.post(elements(2), token);
      expect([replayed.status, replayed.json.error.code]).toEqual([401, 'NODE_TOKEN_REPLAYED']);
    } finally {
      await one.end({ timeout: 5 });
    }
  });

  it('after replica A has accepted manifest version 6, a replica started with version 5 is refused, across restarts', async () => {
    const a = await replica({ manifestVersion: 5 });
    writeFileSync(a.manifestFile, signManifest({ ...testManifest(), version: 6 }, TEST_KEYS.operator));
    await a.service.reloadManifest();

    await expect(replica({ manifestVersion: 5 })).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
    // With no replica left running, the floor is still there.
    await Promise.all(running.splice(0).map((r) => r.close()));
    await expect(replica({ manifestVersion: 5 })).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
    const c = await replica({ manifestVersion: 6 });
    expect(await (await fetch(`${c.service.url}/healthz`)).json()).toMatchObject({ manifest: { version: 6 } });
    // A replica still holding version 5 cannot drag the floor back by reloading it.
    writeFileSync(c.manifestFile, signedTestManifest());
    await expect(c.service.reloadManifest()).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
  });

  it("keeps its tables in its own database: a node's database holds none of them, and the reverse", async () => {
    const nodeUrl = await freshMigratedDatabase();
    const tables = async (url: string) => {
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<
          { t: string }[]
        >`select table_schema || '.' || table_name as t from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') order by 1`;
        return rows.map((r) => r.t);
      } finally {
        await sql.end({ timeout: 5 });
      }
    };
    expect(await tables(databaseUrl)).toEqual([
      'drizzle.__linkage_migrations',
      'public.linkage_manifest_state',
      'public.linkage_rate_buckets',
      'public.linkage_token_jtis',
    ]);
    const nodeTables = await tables(nodeUrl);
    expect(nodeTables).toContain('drizzle.__drizzle_migrations');
    expect(nodeTables.filter((t) => t.includes('linkage_') && !t.endsWith('.linkage_keys'))).toEqual([]);
  });
});
