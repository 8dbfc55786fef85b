import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { JSONWebKeySet } from 'jose';

// undici's dispatcher is what Node's fetch (and so jose) uses. Loaded without its type
// declarations, which would replace the global fetch types every test file compiles against.
const { Agent, setGlobalDispatcher } = createRequire(import.meta.url)('undici') as {
  Agent: new (options: { connect: { ca: Buffer[] } }) => object;
  setGlobalDispatcher(dispatcher: object): void;
};

// Every test CA this process trusts: the dispatcher is replaced with one that trusts them all.
const trusted: Buffer[] = [];

/**
 * Serves `jwks` over https on loopback, with a certificate from a private CA made for it, and
 * makes this process's fetch trust that CA (`caFile`, for a child process's NODE_EXTRA_CA_CERTS): what a force whose identity provider has a private
 * CA does with NODE_EXTRA_CA_CERTS (production refuses inline `jwks` and plain-http JWKS URLs).
 */
export async function serveJwksOverHttps(jwks: JSONWebKeySet): Promise<{ url: string; caFile: string; close(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-jwks-tls-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'ignore' },
  );
  trusted.push(readFileSync(cert));
  setGlobalDispatcher(new Agent({ connect: { ca: [...trusted] } }));
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `https://127.0.0.1:${port}/jwks`, caFile: cert, close: () => server.close() };
}
