import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { gql } from 'graphql-tag';

import { createClient, PublishEpisodeDocument } from '@mcx/client';
import { ensureDatabase, startEmbeddedPostgres } from '@mcx/db';
import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';
import { newKeysFile, parseLinkageConfig, startLinkageService } from '@mcx/linkage-service';
import { createLogger } from '@mcx/logger';
import { loadConfig, loadOrCreateDevIssuer, loadOrCreateNodeKeys, manifestKeys, parseConfig, startNode, type RunningNode } from '@mcx/node';
import {
  addMember,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateSigningKey,
  initManifest,
  signingKeyFromPem,
  signManifest,
} from '@mcx/signing';

import { DEMO_CHILD, seedDemoChild } from './demo-child.js';
import { syntheticEpisodes } from './synthetic.js';

export const DEMO_FORCES = ['WMP', 'GMP', 'MPS'] as const;

const PUBLISH_SUBJECT = gql`
  mutation DemoSubject($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      errors {
        field
        code
      }
    }
  }
`;

/**
 * Three force nodes on one embedded PostgreSQL (a database each), a signed trust manifest
 * naming them, and the federation's linkage service (with its own database on that server). Everything lives under the data
 * directory and is reused on the next run.
 */
export async function runDemo(opts: {
  basePort: number;
  seed: boolean;
  dataDir?: string;
}): Promise<{ nodes: RunningNode[]; stop(): Promise<void> }> {
  const base = loadConfig();
  const logger = createLogger({ level: base.logLevel, base: { service: 'mcx-demo' } });
  const root = path.resolve(opts.dataDir ?? base.dataDir);
  const demoDir = path.join(root, 'demo');
  // The data root stays traversable: the embedded server runs as its own user under it.
  mkdirSync(root, { recursive: true, mode: 0o755 });
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });

  // The operator's key (kept offline in real life) and a manifest naming the three nodes.
  const operatorFile = path.join(demoDir, 'operator.pem');
  if (!existsSync(operatorFile)) writeFileSync(operatorFile, exportPrivateKeyPem(generateSigningKey('manifest')), { mode: 0o600 });
  const operator = signingKeyFromPem(readFileSync(operatorFile, 'utf8'), 'manifest');
  let manifest = initManifest({ operatorKid: operator.kid, validDays: 30, graceDays: 7 });
  const keys = new Map<string, Awaited<ReturnType<typeof loadOrCreateNodeKeys>>>();
  for (const [i, force] of DEMO_FORCES.entries()) {
    const k = await loadOrCreateNodeKeys(path.join(root, 'demo-keys', force.toLowerCase()), { allowGenerate: true });
    keys.set(force, k);
    manifest = addMember(manifest, {
      code: force,
      name: `${force} (demo)`,
      kind: 'police',
      endpoint: `http://127.0.0.1:${opts.basePort + i}`,
      contact24x7: '+44 100 000 0000',
      keys: manifestKeys(k),
      // Each node answers the others' federated reads.
      capabilities: PEER_OPERATIONS.map((op) => op.name),
    });
  }
  const files = {
    operatorPub: path.join(demoDir, 'operator.pub.pem'),
    manifest: path.join(demoDir, 'manifest.jws'),
    linkageKeys: path.join(demoDir, 'linkage-keys.json'),
  };
  writeFileSync(files.operatorPub, exportPublicKeyPem(operator));
  writeFileSync(files.manifest, signManifest(manifest, operator));
  if (!existsSync(files.linkageKeys)) writeFileSync(files.linkageKeys, JSON.stringify(newKeysFile('k1')), { mode: 0o600 });

  // One port above the single node's, so `npm start` and the demo can run side by side.
  const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'demo-postgres'), port: base.embeddedPgPort + 1 });
  // The linkage service keeps its rate limits, used tokens and manifest floor in a database of its own.
  const linkageDatabaseUrl = await ensureDatabase(pg.adminUrl, 'mcx_demo_linkage');
  const linkage = await startLinkageService(
    parseLinkageConfig({
      PORT: String(opts.basePort + 99),
      DATABASE_URL: linkageDatabaseUrl,
      MCX_OPERATOR_PUBLIC_KEY_FILE: files.operatorPub,
      MCX_MANIFEST_FILE: files.manifest,
      MCX_LINKAGE_KEYS_FILE: files.linkageKeys,
    }),
    logger.child({ service: 'mcx-linkage' }),
  );
  const issuer = await loadOrCreateDevIssuer(root);
  const nodes: RunningNode[] = [];
  for (const [i, force] of DEMO_FORCES.entries()) {
    const url = await ensureDatabase(pg.adminUrl, `mcx_demo_${force.toLowerCase()}`);
    const config = parseConfig({
      MCX_ENV: 'development',
      MCX_FORCE_CODE: force,
      PORT: String(opts.basePort + i),
      DATABASE_URL: url,
      MCX_DATA_DIR: root,
      MCX_KEYS_DIR: path.join(root, 'demo-keys', force.toLowerCase()),
      MCX_OPERATOR_PUBLIC_KEY_FILE: files.operatorPub,
      MCX_MANIFEST_FILE: files.manifest,
      MCX_LINKAGE_URL: linkage.url,
      LOG_LEVEL: base.logLevel,
    });
    nodes.push(await startNode(config, logger.child({ force }), url, { keys: keys.get(force)!, devIssuer: issuer }));
  }
  if (opts.seed) {
    const children = syntheticChildren(3, { seed: 2026, referenceDate: new Date().toISOString().slice(0, 10), nhsShare: 1 });
    const reviewAt = new Date(Date.now() + 365 * 86400_000).toISOString().slice(0, 10);
    for (const [i, force] of DEMO_FORCES.entries()) {
      const token = await issuer.mintToken({
        role: 'publisher',
        force,
        orgKind: 'police',
        subject: `${force.toLowerCase()}-rms`,
        kind: 'client',
        ttlSec: 300,
      });
      const client = createClient({ url: nodes[i]!.url, token });
      for (const input of syntheticEpisodes(force, 3)) {
        const { publishEpisode } = await client.request(PublishEpisodeDocument, { input });
        if (publishEpisode.errors.length > 0) throw new Error(`demo seed refused: ${JSON.stringify(publishEpisode.errors)}`);
      }
      // The same three invented children are known to every force, under its own references.
      for (const [n, c] of children.entries()) {
        const input = {
          subjectRef: `${force}-SUBJ-${n + 1}`,
          reviewAt,
          identity: { forename: c.forename, surname: c.surname, dob: c.dob, nhsNumber: c.nhsNumber },
        };
        const res = (await client.request(PUBLISH_SUBJECT as never, { input } as never)) as { publishSubject: { errors: unknown[] } };
        if (res.publishSubject.errors.length > 0) throw new Error('demo subject refused');
      }
    }
  }
  if (opts.seed) {
    const publisher = async (i: number, force: string) =>
      createClient({
        url: nodes[i]!.url,
        token: await issuer.mintToken({
          role: 'publisher',
          force,
          orgKind: 'police',
          subject: `${force.toLowerCase()}-rms`,
          kind: 'client',
          ttlSec: 300,
        }),
      });
    await seedDemoChild({ WMP: await publisher(0, 'WMP'), GMP: await publisher(1, 'GMP'), MPS: await publisher(2, 'MPS') });
    // Owners count their associates' links in the background; count now, so the first search shows them.
    await Promise.all(nodes.map((n) => n.app.services.linkCounts.changed()));
  }
  process.stdout.write(`linkage service: ${linkage.url}\n`);
  for (const [i, force] of DEMO_FORCES.entries()) process.stdout.write(`${force}: ${nodes[i]!.url}/graphql\n`);
  const [y, m, d] = DEMO_CHILD.dob.split('-');
  process.stdout.write(
    [
      `console: ${nodes[0]!.url}/console/ (every node serves one at /console/)`,
      '  sign in: "Development sign-in", role Investigator, force West Midlands Police (WMP)',
      '  purpose: "Live search for a missing child", case reference WMP-26-1001',
      `  search: ${DEMO_CHILD.forename} ${DEMO_CHILD.surname}, born ${d} ${m} ${y}, female (an invented child known to all three forces)`,
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await linkage.close();
    await pg.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  return { nodes, stop };
}
