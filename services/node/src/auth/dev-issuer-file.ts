import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { createDevIssuer, type DevIssuer } from '@mcx/auth';

/** Where the development issuer's private key lives: beside the embedded database. */
export function devIssuerKeyFile(dataDir: string): string {
  return path.join(dataDir, 'dev-issuer.jwk');
}

/**
 * Loads the development issuer's key from the data directory, creating it on first use, so
 * `mcx token mint` and the node agree. Development and tests only.
 */
export async function loadOrCreateDevIssuer(dataDir: string): Promise<DevIssuer> {
  const file = devIssuerKeyFile(dataDir);
  if (existsSync(file)) return createDevIssuer({ privateJwk: JSON.parse(readFileSync(file, 'utf8')) });
  const issuer = await createDevIssuer();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(issuer.privateJwk), { mode: 0o600, flag: 'wx' });
  return issuer;
}
