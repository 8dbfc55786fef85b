import path from 'node:path';
import { createClient, PublishEpisodeDocument } from '@mcx/client';
import { ensureDatabase, startEmbeddedPostgres } from '@mcx/db';
import { createLogger } from '@mcx/logger';
import { loadConfig, loadOrCreateDevIssuer, parseConfig, startNode, type RunningNode } from '@mcx/node';
import { syntheticEpisodes } from './synthetic.js';

export const DEMO_FORCES = ['WMP', 'GMP', 'MPS'] as const;

/** Three force nodes on one embedded PostgreSQL, each with its own database. */
export async function runDemo(opts: { basePort: number; seed: boolean; dataDir?: string }): Promise<{ nodes: RunningNode[]; stop(): Promise<void> }> {
  // The demo takes its data directory, log level and embedded port from the node's own config.
  const base = loadConfig();
  const logger = createLogger({ level: base.logLevel, base: { service: 'mcx-demo' } });
  const dataDir = path.resolve(opts.dataDir ?? base.dataDir, 'demo-postgres');
  // One port above the single node's, so `npm start` and the demo can run side by side.
  const pg = await startEmbeddedPostgres({ dataDir, port: base.embeddedPgPort + 1 });
  const nodes: RunningNode[] = [];
  // One development issuer for the whole demo federation; its key stays in the data directory.
  const issuer = await loadOrCreateDevIssuer(path.dirname(dataDir));
  for (const [i, force] of DEMO_FORCES.entries()) {
    const url = await ensureDatabase(pg.adminUrl, `mcx_demo_${force.toLowerCase()}`);
    const config = parseConfig({
      MCX_ENV: 'development',
      MCX_FORCE_CODE: force,
      PORT: String(opts.basePort + i),
      DATABASE_URL: url,
      MCX_KEYS_DIR: path.join(path.dirname(dataDir), 'demo-keys', force.toLowerCase()),
      LOG_LEVEL: base.logLevel,
    });
    nodes.push(await startNode(config, logger.child({ force }), url, { devIssuer: issuer }));
  }
  if (opts.seed) {
    for (const [i, force] of DEMO_FORCES.entries()) {
      const token = await issuer.mintToken({ role: 'publisher', force, orgKind: 'police', subject: `${force.toLowerCase()}-rms`, kind: 'client', ttlSec: 300 });
      const client = createClient({ url: nodes[i]!.url, token });
      for (const input of syntheticEpisodes(force, 3)) {
        const { publishEpisode } = await client.request(PublishEpisodeDocument, { input });
        if (publishEpisode.errors.length > 0) throw new Error(`demo seed refused: ${JSON.stringify(publishEpisode.errors)}`);
      }
    }
  }
  for (const [i, force] of DEMO_FORCES.entries()) process.stdout.write(`${force}: ${nodes[i]!.url}/graphql\n`);
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await pg.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  return { nodes, stop };
}
