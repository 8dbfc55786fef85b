import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';
import { signingKeyFromPem } from '@mcx/signing';

import { createHttpEvaluator } from './http-evaluator.js';

// Error mapping only, against a stub: the real service is tested in services/linkage.
const PEER = signingKeyFromPem(
  `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICX3KGExyvTIYc1d2bV6SFUCZuXxCAa9PP6CEpZqvnuS
-----END PRIVATE KEY-----`,
  'peer-token',
);
const ELEMENT = new Uint8Array(32).fill(7);
const servers: Server[] = [];

async function stub(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const reply =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof McxError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an McxError');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('createHttpEvaluator', () => {
  it('sends one POST with a fresh node token and the encoded elements', async () => {
    const seen: { auth: string[]; bodies: unknown[] } = { auth: [], bodies: [] };
    const url = await stub((req, res, body) => {
      seen.auth.push(req.headers.authorization ?? '');
      seen.bodies.push(JSON.parse(body));
      reply(200, { keyVersion: 'k2', evaluated: [Buffer.from(ELEMENT).toString('base64url')] })(req, res);
    });
    const evaluator = createHttpEvaluator({ url: `${url}/`, member: 'WMP', peerTokenKey: PEER, keyVersion: 'k2' });
    const first = await evaluator.evaluate([ELEMENT]);
    await evaluator.evaluate([ELEMENT]);
    expect(first).toEqual({ keyVersion: 'k2', evaluated: [ELEMENT] });
    expect(seen.bodies[0]).toEqual({ keyVersion: 'k2', blinded: [Buffer.from(ELEMENT).toString('base64url')] });
    expect(seen.auth[0]).toMatch(/^Bearer ey/);
    expect(seen.auth[0]).not.toBe(seen.auth[1]);
  });

  describe('maps failures to codes and never puts an element in the message', () => {
    const encoded = Buffer.from(ELEMENT).toString('base64url');
    const cases: Array<[Parameters<typeof stub>[0], string]> = [
      [reply(429, { error: { code: 'RATE_LIMITED', message: 'x' } }, { 'retry-after': '3' }), 'LINKAGE_RATE_LIMITED'],
      [reply(401, { error: { code: 'NODE_TOKEN_EXPIRED', message: 'x' } }), 'LINKAGE_REFUSED'],
      [reply(400, { error: { code: 'BLINDED_INVALID', message: encoded } }), 'LINKAGE_REFUSED'],
      [reply(503, { error: { code: 'MANIFEST_EXPIRED', message: 'x' } }), 'LINKAGE_UNAVAILABLE'],
      [reply(200, { keyVersion: 'k1', evaluated: [] }), 'LINKAGE_EVALUATION_INVALID'],
      [reply(200, { keyVersion: 'k9', evaluated: [encoded] }), 'LINKAGE_EVALUATION_INVALID'],
      [reply(200, 'nope'), 'LINKAGE_EVALUATION_INVALID'],
    ];
    it.each(cases.map(([handler, code], row) => [row + 1, code, handler] as const))('case %i: %s', async (_row, code, handler) => {
      const url = await stub(handler);
      const error = await codeOf(createHttpEvaluator({ url, member: 'WMP', peerTokenKey: PEER, keyVersion: 'k1' }).evaluate([ELEMENT]));
      expect(error.code).toBe(code);
      expect(error.message).not.toContain(encoded);
    });

    it('a rate limit says when to retry', async () => {
      const limited = await codeOf(
        createHttpEvaluator({ url: await stub(cases[0]![0]), member: 'WMP', peerTokenKey: PEER }).evaluate([ELEMENT]),
      );
      expect(limited.message).toContain('retry after 3 s');
    });
  });

  it('gives LINKAGE_UNAVAILABLE on timeout and when nothing listens', async () => {
    const url = await stub(() => undefined);
    const slow = await codeOf(createHttpEvaluator({ url, member: 'WMP', peerTokenKey: PEER, timeoutMs: 100 }).evaluate([ELEMENT]));
    expect(slow).toMatchObject({ code: 'LINKAGE_UNAVAILABLE', message: expect.stringContaining('100 ms') });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await codeOf(
      createHttpEvaluator({ url: `http://127.0.0.1:${port}`, member: 'WMP', peerTokenKey: PEER }).evaluate([ELEMENT]),
    );
    expect(down.code).toBe('LINKAGE_UNAVAILABLE');
  });
});
