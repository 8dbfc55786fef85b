import { createClient, type McxClient } from '@mcx/client';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { generateNodeKeys, loadNodeKeys, parseConfig, startNode, type Config, type NodeKeys, type RunningNode } from '@mcx/node';
import { capturingLogger } from './logs.js';

export interface TestNode {
  node: RunningNode;
  config: Config;
  databaseUrl: string;
  keys: NodeKeys;
  client: McxClient;
  /** Every log line the node wrote, as text. */
  logs(): string;
  close(): Promise<void>;
}

/**
 * Starts a real node on loopback (port 0) over its own fresh, migrated database. Each test
 * file seeds its own force, so files can run concurrently without cleanup.
 */
export async function startTestNode(opts: { force?: string; env?: Record<string, string>; databaseUrl?: string; keys?: NodeKeys } = {}): Promise<TestNode> {
  const databaseUrl = opts.databaseUrl ?? (await freshMigratedDatabase());
  const config = parseConfig({ MCX_ENV: 'test', MCX_FORCE_CODE: opts.force ?? 'WMP', PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'debug', ...opts.env });
  const { logger, text } = capturingLogger();
  // With MCX_KEYS_DIR set the node loads its own key files, as in production.
  const given = opts.keys ?? (opts.env?.MCX_KEYS_DIR ? undefined : generateNodeKeys());
  const node = await startNode(config, logger, databaseUrl, given ? { keys: given } : {});
  const keys = given ?? (await loadNodeKeys(config.keysDir));
  return { node, config, databaseUrl, keys, client: createClient({ url: node.url }), logs: text, close: () => node.close() };
}
