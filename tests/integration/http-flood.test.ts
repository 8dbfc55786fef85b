import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_PATH, peerAudience } from '@mcx/federation';
import { signNodeToken } from '@mcx/signing';

import { floodNested } from '../testkit/flood.js';
import { expectResponsive, nested, RESPONSE_JSON, startEdgeNode, type EdgeNode } from '../testkit/http-edge.js';
import type { TestNode } from '../testkit/node.js';

// The node's HTTP edge under hostile load, against a node started in production mode: JSON bounded
// before it is parsed, floods of deep bodies with /healthz still answering, and clients that abort.
let edge: EdgeNode;
let t: TestNode;
let investigator: Record<string, string>;
let post: EdgeNode['post'];
let graphql: EdgeNode['graphql'];

beforeAll(async () => {
  edge = await startEdgeNode();
  ({ t, investigator, post, graphql } = edge);
});
afterAll(() => t?.close());

describe('JSON bodies are bounded before they are parsed', () => {
  it('an authenticated body nested deeper than MCX_MAX_JSON_DEPTH: 400 BAD_REQUEST (JSON_TOO_DEEP), on /graphql and /peer/v1', async () => {
    const r = await post('/graphql', nested(1000), investigator);
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST', reason: 'JSON_TOO_DEEP' });
    const within = await post('/graphql', nested(t.config.http.maxJsonDepth - 2), { ...investigator, ...RESPONSE_JSON });
    expect(within.json.errors?.[0]?.extensions?.code).not.toBe('BAD_REQUEST');

    const token = signNodeToken({ iss: 'WMP', aud: peerAudience('WMP'), ttlSec: 30, claims: { req_hash: 'x' } }, edge.prod.keys.peerToken);
    const peer = await post(PEER_PATH, nested(1000), { authorization: `Bearer ${token}` });
    expect(peer.status).toBe(400);
    expect(peer.headers.get('x-mcx-refusal')).toBe('BAD_REQUEST');
    expect(peer.json.error).toMatchObject({ code: 'BAD_REQUEST', reason: 'JSON_TOO_DEEP' });
  });

  /** GET /healthz every 10 ms while `work` runs: each latency, in ms (after one call that opens the connection). */
  async function healthWhile<T>(work: () => Promise<T>): Promise<{ result: T; health: number[] }> {
    await (await fetch(`${t.node.url}/healthz`)).text();
    let running = true;
    const done = work().finally(() => (running = false));
    const health: number[] = [];
    while (running) {
      const started = performance.now();
      const res = await fetch(`${t.node.url}/healthz`);
      await res.text();
      expect(res.status).toBe(200);
      health.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { result: await done, health };
  }

  it('50 anonymous bodies of 3 MB nested 1.5 million deep, at once: each refused with 401 before its body is read, and /healthz stays under 100 ms', async () => {
    const before = t.logs().length;
    const { result, health } = await healthWhile(() => floodNested(`${t.node.url}/graphql`, { count: 50, depth: 1_500_000 }));
    // The node answers 401 and closes the connection rather than read a body beyond
    // MCX_ANONYMOUS_MAX_BODY_BYTES: a sender still uploading may see the close (EPIPE, a reset) before the answer.
    for (const r of result)
      expect([
        { status: 401, reason: 'TOKEN_MISSING', error: null },
        { status: null, reason: null, error: 'EPIPE' },
        { status: null, reason: null, error: 'ECONNRESET' },
      ]).toContainEqual(r);
    const answered = t
      .logs()
      .slice(before)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number })
      .filter((l) => l.msg === 'request' && l.path === '/graphql');
    expect(answered.map((l) => l.status)).toEqual(Array(50).fill(401));
    expect(health.length).toBeGreaterThan(0);
    expectResponsive(health);
  });

  it('10 authenticated ones at once: each refused as too deep before JSON.parse, and /healthz stays under 100 ms', async () => {
    const { result, health } = await healthWhile(() =>
      floodNested(`${t.node.url}/graphql`, { count: 10, depth: 1_500_000, headers: investigator }),
    );
    expect(result).toEqual(Array(10).fill({ status: 400, reason: 'JSON_TOO_DEEP', error: null }));
    expectResponsive(health);
  });
});

describe('a client that aborts', () => {
  /** Sends the headers and part of the body, then drops the connection. */
  function abortMidBody(path: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve) => {
      const req = httpRequest(new URL(path, t.node.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(64 * 1024), ...headers },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      req.write(`{"query":"{ nodeForce }","variables":{"pad":"${'x'.repeat(2048)}`);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
  }

  it('100 requests dropped mid-body: logged as aborts at info, never a 5xx or an error-level line', async () => {
    const before = t.logs().length;
    const nodeToken = signNodeToken(
      { iss: 'WMP', aud: peerAudience('WMP'), ttlSec: 30, claims: { req_hash: 'x' } },
      edge.prod.keys.peerToken,
    );
    await Promise.all([
      ...Array.from({ length: 50 }, () => abortMidBody('/graphql', investigator)),
      ...Array.from({ length: 50 }, () => abortMidBody(PEER_PATH, { authorization: `Bearer ${nodeToken}` })),
    ]);
    const lines = () =>
      t
        .logs()
        .slice(before)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; msg: string; status?: number; aborted?: boolean; path?: string });
    for (let i = 0; i < 50 && lines().filter((l) => l.aborted).length < 100; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const logged = lines();
    expect(logged.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(logged.filter((l) => (l.status ?? 0) >= 500)).toEqual([]);
    const aborts = logged.filter((l) => l.aborted);
    expect(aborts.length).toBe(100);
    expect(aborts.filter((l) => !(l.level === 'info' && l.msg === 'request aborted by the client' && l.status === undefined))).toEqual([]);
    expect(aborts.filter((l) => l.path === '/graphql').length).toBe(50);
    // The node serves on.
    expect((await graphql('{ nodeForce }', investigator)).json).toEqual({ data: { nodeForce: 'WMP' } });
  });
});
