import { createClient, type McxClient } from '@mcx/client';
import { freshMigratedDatabase } from '@mcx/db/testing';
import { parseConfig, startNode, type Config, type RunningNode } from '@mcx/node';
import { capturingLogger } from './logs.js';

export interface TestNode {
  node: RunningNode;
  config: Config;
  databaseUrl: string;
  client: McxClient;
  /** Every log line the node wrote, as text. */
  logs(): string;
  close(): Promise<void>;
}

/**
 * Starts a real node on loopback (port 0) over its own fresh, migrated database. Each test
 * file seeds its own force, so files can run concurrently without cleanup.
 */
export async function startTestNode(opts: { force?: string; env?: Record<string, string>; databaseUrl?: string } = {}): Promise<TestNode> {
  const databaseUrl = opts.databaseUrl ?? (await freshMigratedDatabase());
  const config = parseConfig({ MCX_ENV: 'test', MCX_FORCE_CODE: opts.force ?? 'WMP', PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'debug', ...opts.env });
  const { logger, text } = capturingLogger();
  const node = await startNode(config, logger, databaseUrl);
  return { node, config, databaseUrl, client: createClient({ url: node.url }), logs: text, close: () => node.close() };
}
