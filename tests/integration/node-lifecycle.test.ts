import { request as httpRequest } from 'node:http';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EdgeJson } from '../testkit/http-edge.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

// A node's life at its HTTP edge, each on a node of its own: readiness that tells the truth about
// the database, load shedding under memory pressure, and a graceful close.
describe('readiness tells the truth about the database', () => {
  let n: TestNode;
  beforeAll(async () => {
    n = await startTestNode({ force: 'GMP' });
  });
  afterAll(() => n?.close());

  async function readyz() {
    const res = await fetch(`${n.node.url}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as {
        ready: boolean;
        database: string;
        migrations: unknown;
        audit: string;
        integrity: unknown;
        load: string;
      },
    };
  }

  it('a database that refuses connections: /readyz is 503 with the database unreachable, and ready again once it accepts them', async () => {
    expect(await readyz()).toMatchObject({ status: 200, body: { ready: true, database: 'reachable', audit: 'ok' } });
    const name = new URL(n.databaseUrl).pathname.slice(1);
    // The test server's superuser stops the database accepting connections and cuts the node's.
    const maintenance = new URL(n.databaseUrl);
    maintenance.pathname = '/postgres';
    const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`alter database "${name}" allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ ready: false, database: 'unreachable', migrations: null });
      // The other fields are still there.
      expect(down.body.integrity).toBeDefined();
      expect(down.body.audit).toBe('ok');
    } finally {
      await admin.unsafe(`alter database "${name}" allow_connections true`);
      await admin.end();
    }
    expect(await readyz()).toMatchObject({ status: 200, body: { ready: true, database: 'reachable' } });
  });
});

describe('load shedding', () => {
  let n: TestNode;
  beforeAll(async () => {
    // A heap bound far below what any Node process uses: the node is under pressure from its first sample on.
    n = await startTestNode({
      force: 'MPS',
      env: { MCX_PRESSURE_MAX_HEAP_BYTES: String(1024 * 1024), MCX_PRESSURE_RETRY_AFTER_SECONDS: '7' },
    });
  });
  afterAll(() => n?.close());

  it('under pressure: 503 with Retry-After and SERVICE_UNAVAILABLE (OVERLOADED) before any token is checked; /healthz still 200; /readyz 503 and says why', async () => {
    const token = await n.issuer.mintToken({
      role: 'investigator',
      force: 'MPS',
      orgKind: 'police',
      subject: 'inv',
      kind: 'user',
      ttlSec: 60,
    });
    const ask = () =>
      fetch(`${n.node.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...readHeaders('MPS') },
        body: '{"query":"{ nodeForce }"}',
      });
    // The first sample of memory and event-loop delay comes a second after start.
    let res = await ask();
    for (let i = 0; i < 40 && res.status !== 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await ask();
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as EdgeJson).errors?.[0]?.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'OVERLOADED' });
    const anonymous = await fetch(`${n.node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ nodeForce }"}',
    });
    expect(anonymous.status).toBe(503);
    expect((await fetch(`${n.node.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${n.node.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, database: 'reachable', load: 'overloaded' });
  });
});

describe('a graceful close', () => {
  it('a request in flight when close() is called is answered, the close does not wait on its keep-alive connection, and then the node accepts no more connections', async () => {
    const n = await startTestNode({ force: 'LANCS' });
    const token = await n.issuer.mintToken({
      role: 'investigator',
      force: 'LANCS',
      orgKind: 'police',
      subject: 'inv',
      kind: 'user',
      ttlSec: 60,
    });
    const body = '{"query":"{ nodeForce }"}';
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        new URL('/graphql', n.node.url),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${token}` },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // Half the body now, the rest once the node is closing.
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const closed = n.close().then(() => performance.now() - started);
    expect(await answered).toEqual({ status: 200, text: JSON.stringify({ data: { nodeForce: 'LANCS' } }) + '\n' });
    // The answered connection was closed with the response, so the drain does not wait for the client to drop it.
    expect(await closed).toBeLessThan(2000);
    await expect(fetch(`${n.node.url}/healthz`)).rejects.toThrow();
  });
});
