// The console's development sign-in mints working tokens, so only the developer's own browser,
// addressing the node by a loopback name, may use it. A web page the developer visits can rebind
// its own name to 127.0.0.1 and post to the node as "same origin"; its requests carry its name in
// Host (and Origin), and are refused.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadOrCreateDevIssuer } from '../../services/node/src/auth/dev-issuer-file.js';
import { fromThisMachine } from '../../services/node/src/http/console-routes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

let t: TestNode;
let port: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-dev-sign-in-'));
  t = await startTestNode({ issuer: await loadOrCreateDevIssuer(dataDir), env: { MCX_DATA_DIR: dataDir, LOG_LEVEL: 'warn' } });
  port = new URL(t.node.url).port;
});
afterAll(async () => t?.close());

/** POST /console/dev-sign-in over a real socket, with the Host and Origin a browser would send. */
async function signIn(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  const body = JSON.stringify({ role: 'operator', force: 'WMP' });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/console/dev-sign-in',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('development sign-in answers only the machine it runs on', () => {
  it('mints a token for the console addressed as 127.0.0.1 or localhost', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const res = await signIn({ host, origin: `http://${host}` });
      expect(res.status, host).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ role: 'operator', force: 'WMP' });
    }
    expect((await signIn({ host: `127.0.0.1:${port}` })).status).toBe(200);
  });

  it.each([
    ['a rebound name in Host and Origin', { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }],
    ['a rebound name in Host, no Origin', { host: `evil.example:${port}` }],
    ['a loopback Host but another Origin', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' }],
    ['a loopback Host but a null Origin', { host: `127.0.0.1:${port}`, origin: 'null' }],
    ['a name that only starts like localhost', { host: `localhost.evil.example:${port}` }],
  ])('refuses %s with 403 and no token', async (_label, headers) => {
    const res = await signIn(headers);
    expect(res.status).toBe(403);
    expect(res.body).not.toMatch(/eyJ/);
    expect(res.body).not.toContain('evil');
  });

  it('takes the configured listening address as this machine, but not a wildcard one', () => {
    expect(fromThisMachine('10.1.2.3:4000', undefined, '10.1.2.3')).toBe(true);
    expect(fromThisMachine('10.1.2.3:4000', undefined, '0.0.0.0')).toBe(false);
    expect(fromThisMachine('[::1]:4000', 'http://[::1]:4000', '127.0.0.1')).toBe(true);
    expect(fromThisMachine(undefined, undefined, '127.0.0.1')).toBe(false);
  });
});
