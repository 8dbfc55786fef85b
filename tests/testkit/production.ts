import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

import { generateNodeKeys, manifestKeys, type NodeKeys } from '@mcx/node';
import { addMember, exportPublicKeyPem, generateSigningKey, initManifest, signManifest } from '@mcx/signing';

import { serveJwksOverHttps } from './https-jwks.js';
import { startTestNode, type TestNode } from './node.js';

export const PRODUCTION_ISSUER = 'https://idp.wmp.test';
export const PRODUCTION_AUDIENCE = 'api://mcx-wmp';

export interface ProductionNode {
  t: TestNode;
  keys: NodeKeys;
  /** Signs an access token of the force's own identity provider (EdDSA, typ at+jwt, 5 minutes). */
  signToken(claims: Record<string, unknown>): Promise<string>;
}

/**
 * A WMP node started in production mode, as `mcx node start` runs it: no development issuer (an
 * issuers file with one EdDSA identity provider), a pinned operator key and a signed manifest in
 * which WMP is a member offering `capabilities`.
 */
export async function startProductionNode(opts: { env?: Record<string, string>; capabilities?: string[] } = {}): Promise<ProductionNode> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-prod-'));
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const jwks = await serveJwksOverHttps({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] });
  writeFileSync(
    path.join(dir, 'issuers.json'),
    JSON.stringify([
      {
        id: 'wmp-idp',
        issuer: PRODUCTION_ISSUER,
        audience: PRODUCTION_AUDIENCE,
        jwksUrl: jwks.url,
        algorithms: ['EdDSA'],
        force: 'WMP',
        orgKind: 'police',
        typ: 'at+jwt',
        claimMapping: 'plain',
      },
    ]),
  );
  const signToken = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setIssuer(PRODUCTION_ISSUER)
      .setAudience(PRODUCTION_AUDIENCE)
      .setSubject(String(claims.sub ?? 'user-1'))
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  const operator = generateSigningKey('manifest');
  writeFileSync(path.join(dir, 'operator.pub.pem'), exportPublicKeyPem(operator));
  const keys = generateNodeKeys();
  const manifest = addMember(initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 }), {
    code: 'WMP',
    name: 'West Midlands Police',
    kind: 'police',
    endpoint: 'https://mcx.wmp.test',
    contact24x7: '+44 121 000 0000',
    keys: manifestKeys(keys),
    capabilities: opts.capabilities ?? [],
  });
  writeFileSync(path.join(dir, 'manifest.jws'), signManifest(manifest, operator));

  const t = await startTestNode({
    force: 'WMP',
    keys,
    env: {
      MCX_ENV: 'production',
      MCX_ISSUERS_FILE: path.join(dir, 'issuers.json'),
      MCX_OPERATOR_PUBLIC_KEY_FILE: path.join(dir, 'operator.pub.pem'),
      MCX_MANIFEST_FILE: path.join(dir, 'manifest.jws'),
      ...opts.env,
    },
  });
  return { t, keys, signToken };
}
