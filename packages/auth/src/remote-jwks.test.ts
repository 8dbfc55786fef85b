import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { IssuerConfig } from './issuers.js';
import { FIXED_NOW, LA_ISSUER, laClaims, publicJwk, signWith } from './test-fixtures.js';
import { createTokenVerifier } from './verify-token.js';

// A real JWKS endpoint on loopback; it records every path asked for.
let server: Server;
let base: string;
const requests: string[] = [];
let served: JSONWebKeySet = { keys: [publicJwk('la')] };
let failing = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (failing || req.url !== '/jwks') {
      res.writeHead(failing ? 500 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

function remoteConfig(path = '/jwks'): IssuerConfig {
  const { jwks: _jwks, ...rest } = LA_ISSUER;
  return { ...rest, jwksUrl: `${base}${path}` };
}

describe('remote JWKS over loopback HTTP', () => {
  it('verifies, caches, and fetches only the configured URL', async () => {
    requests.length = 0;
    served = { keys: [publicJwk('la')] };
    const verifier = createTokenVerifier({ issuers: [remoteConfig()], now: () => FIXED_NOW });

    await expect(verifier.verify(await signWith('la', laClaims()))).resolves.toMatchObject({
      roles: ['investigator'],
    });
    await verifier.verify(await signWith('la', laClaims({ sub: 'second' })));

    const evil = `${base}/evil-jwks`;
    const withJku = await signWith('stranger', laClaims(), { jku: evil });
    await expect(verifier.verify(withJku)).rejects.toMatchObject({ code: 'TOKEN_FORBIDDEN_HEADER' });
    const withX5u = await signWith('stranger', laClaims(), { x5u: evil });
    await expect(verifier.verify(withX5u)).rejects.toMatchObject({ code: 'TOKEN_FORBIDDEN_HEADER' });

    // Unknown kid within the cooldown: refused without another fetch.
    await expect(verifier.verify(await signWith('stranger', laClaims()))).rejects.toMatchObject({
      code: 'TOKEN_UNKNOWN_KID',
    });
    expect(requests).toEqual(['/jwks']);
  });

  it('picks up a rotated key once the cooldown allows a refetch', async () => {
    requests.length = 0;
    served = { keys: [publicJwk('la')] };
    const verifier = createTokenVerifier({
      issuers: [remoteConfig()],
      now: () => FIXED_NOW,
      remoteJwks: { cooldownMs: 0 },
    });
    await verifier.verify(await signWith('la', laClaims()));
    served = { keys: [publicJwk('la'), { ...publicJwk('stranger') }] };
    await expect(verifier.verify(await signWith('stranger', laClaims()))).resolves.toMatchObject({
      subject: 'la-user-4711',
    });
    expect(requests).toEqual(['/jwks', '/jwks']);
  });

  it('reports an unreachable or failing JWKS as TOKEN_JWKS_UNAVAILABLE', async () => {
    failing = true;
    try {
      const verifier = createTokenVerifier({ issuers: [remoteConfig()], now: () => FIXED_NOW });
      await expect(verifier.verify(await signWith('la', laClaims()))).rejects.toMatchObject({
        code: 'TOKEN_JWKS_UNAVAILABLE',
      });
    } finally {
      failing = false;
    }
    const closed = createTokenVerifier({
      issuers: [{ ...remoteConfig(), jwksUrl: 'http://127.0.0.1:9/jwks' }],
      now: () => FIXED_NOW,
      remoteJwks: { timeoutMs: 2000 },
    });
    await expect(closed.verify(await signWith('la', laClaims()))).rejects.toMatchObject({
      code: 'TOKEN_JWKS_UNAVAILABLE',
    });
  });
});
