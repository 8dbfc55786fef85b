import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { addKeyVersion, newKeysFile, parseLinkageConfig, startLinkageService, type RunningLinkageService } from '@mcx/linkage-service';
import { generateNodeKeys, manifestKeys, type NodeKeys } from '@mcx/node';
import {
  addMember,
  exportPublicKeyPem,
  generateSigningKey,
  initManifest,
  signManifest,
  type MemberKind,
  type TrustManifest,
} from '@mcx/signing';

import { capturingLogger } from './logs.js';

export interface TestFederation {
  dir: string;
  keys: Record<string, NodeKeys>;
  manifest: TrustManifest;
  /** The environment a member node needs: pinned operator key, manifest, linkage service. */
  nodeEnv(force: string): Record<string, string>;
  linkage: RunningLinkageService;
  /** The operator adds a new active OPRF key version and restarts the service on the same port. */
  rotateLinkageKey(version: string): Promise<void>;
  /** The linkage service's log lines (its call log). */
  linkageLogs(): string;
  close(): Promise<void>;
}

/**
 * A real federation for tests: an operator key, a signed manifest naming each force with its
 * node keys, and a real linkage service on loopback that trusts that manifest.
 */
export async function createFederation(
  forces: string[],
  opts: {
    linkageEnv?: Record<string, string>;
    /** The linkage service's database; by default a fresh one on the test server (inside vitest only). */
    linkageDatabaseUrl?: string;
    endpoints?: Record<string, string>;
    capabilities?: string[];
    capabilitiesOf?: Record<string, string[]>;
    kinds?: Record<string, MemberKind>;
  } = {},
): Promise<TestFederation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-federation-'));
  const operator = generateSigningKey('manifest');
  const keys = Object.fromEntries(forces.map((f) => [f, generateNodeKeys()]));
  let manifest = initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 });
  for (const force of forces) {
    const k = keys[force]!;
    manifest = addMember(manifest, {
      code: force,
      name: `${force} (test)`,
      kind: opts.kinds?.[force] ?? 'police',
      endpoint: opts.endpoints?.[force] ?? `https://${force.toLowerCase()}.mcx.test`,
      contact24x7: '+44 100 000 0000',
      keys: manifestKeys(k),
      capabilities: opts.capabilitiesOf?.[force] ?? opts.capabilities ?? [],
    });
  }
  const files = {
    operator: path.join(dir, 'operator.pub.pem'),
    manifest: path.join(dir, 'manifest.jws'),
    linkageKeys: path.join(dir, 'linkage-keys.json'),
  };
  writeFileSync(files.operator, exportPublicKeyPem(operator));
  writeFileSync(files.manifest, signManifest(manifest, operator));
  writeFileSync(files.linkageKeys, JSON.stringify(newKeysFile('k1')), { mode: 0o600 });
  // The linkage service's own database (never a node's); it migrates it on start.
  const linkageDatabaseUrl = opts.linkageDatabaseUrl ?? (await freshLinkageDatabaseUrl());
  const { logger, text } = capturingLogger('info');
  const start = (port: string) =>
    startLinkageService(
      parseLinkageConfig({
        PORT: port,
        DATABASE_URL: linkageDatabaseUrl,
        MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator,
        MCX_MANIFEST_FILE: files.manifest,
        MCX_LINKAGE_KEYS_FILE: files.linkageKeys,
        ...opts.linkageEnv,
      }),
      logger,
    );
  let linkage = await start('0');
  const url = linkage.url;
  const fed: TestFederation = {
    dir,
    keys,
    manifest,
    nodeEnv: () => ({ MCX_OPERATOR_PUBLIC_KEY_FILE: files.operator, MCX_MANIFEST_FILE: files.manifest, MCX_LINKAGE_URL: url }),
    get linkage() {
      return linkage;
    },
    async rotateLinkageKey(version) {
      writeFileSync(files.linkageKeys, JSON.stringify(addKeyVersion(JSON.parse(readFileSync(files.linkageKeys, 'utf8')), version)), {
        mode: 0o600,
      });
      await linkage.close();
      linkage = await start(new URL(url).port);
    },
    linkageLogs: text,
    close: () => linkage.close(),
  };
  return fed;
}

/** A fresh database for the linkage service on the test server. Loaded lazily: it needs vitest's provided admin URL. */
async function freshLinkageDatabaseUrl(): Promise<string> {
  const [{ createFreshDatabase }, { testAdminUrl }] = await Promise.all([import('@mcx/db'), import('@mcx/db/testing')]);
  return createFreshDatabase(testAdminUrl(), 'mcx_linkage');
}

/** A free loopback port, for a node whose endpoint the manifest must name before it starts. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
