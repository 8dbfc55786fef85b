import { createDevIssuer, devAudience, type DevIssuer, type OrgKind, type Role } from '@mcx/auth';
import { createClient, type McxClient } from '@mcx/client';
import { freshMigratedDatabase, nodeLoginUrl } from '@mcx/db/testing';
import {
  generateNodeKeys,
  loadNodeKeys,
  parseConfig,
  startNode,
  type Config,
  type NodeKeys,
  type PeerAnswerFault,
  type RunningNode,
} from '@mcx/node';

import { capturingLogger } from './logs.js';

export interface TestNode {
  node: RunningNode;
  config: Config;
  /** The database as its owner (the test server's superuser), for a test's own SQL; the node logs in as config.databaseUrl. */
  databaseUrl: string;
  keys: NodeKeys;
  issuer: DevIssuer;
  /** A publisher of this node's force (client credentials). */
  client: McxClient;
  /** An investigator of this node's force, with a purpose and case reference. */
  investigator: McxClient;
  /** A client holding a freshly minted development token. */
  as(opts: ClientAs): Promise<McxClient>;
  /** Every log line the node wrote, as text. */
  logs(): string;
  close(): Promise<void>;
}

/** Who a client minted by TestNode.as speaks for. */
export interface ClientAs {
  roles: Role[];
  force?: string;
  orgKind?: OrgKind;
  kind?: 'user' | 'client';
  subject?: string;
  /** Request headers, e.g. x-mcx-purpose and x-mcx-case-ref. */
  headers?: Record<string, string>;
  ttlSec?: number;
  audience?: string;
}

/** Headers of a well-formed read: a coded purpose and a case reference. */
export function readHeaders(force = 'WMP'): Record<string, string> {
  return { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': `${force.slice(0, 4)}-26-1001` };
}

/**
 * Starts a real node on loopback (port 0) over its own fresh, migrated database. Each test
 * file seeds its own force, so files can run concurrently without cleanup.
 */
export async function startTestNode(
  opts: {
    force?: string;
    env?: Record<string, string>;
    databaseUrl?: string;
    keys?: NodeKeys;
    issuer?: DevIssuer;
    now?: () => Date;
    peerAnswerFault?: PeerAnswerFault;
  } = {},
): Promise<TestNode> {
  const databaseUrl = opts.databaseUrl ?? (await freshMigratedDatabase());
  // As in production: the node logs in as a least-privilege role and migrates as the owner.
  const loginUrl = await nodeLoginUrl(databaseUrl);
  const config = parseConfig({
    MCX_ENV: 'test',
    MCX_FORCE_CODE: opts.force ?? 'WMP',
    PORT: '0',
    DATABASE_URL: loginUrl,
    MCX_MIGRATION_DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'debug',
    // A test's nodes share one worker's event loop, and test files share the cores: the loop's delay measures the machine, not this
    // node, so no test node sheds load on it (as in the benchmarks). The shedding itself is tested with a heap bound
    // (node-lifecycle.test.ts), and a test may set its own.
    MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...opts.env,
  });
  const { logger, text } = capturingLogger();
  // With MCX_KEYS_DIR set the node loads its own key files, as in production.
  const given = opts.keys ?? (opts.env?.MCX_KEYS_DIR ? undefined : generateNodeKeys());
  const issuer = opts.issuer ?? (await createDevIssuer());
  const node = await startNode(config, logger, config.databaseUrl ?? loginUrl, {
    ...(given ? { keys: given } : {}),
    devIssuer: issuer,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.peerAnswerFault ? { peerAnswerFault: opts.peerAnswerFault } : {}),
  });
  const keys = given ?? (await loadNodeKeys(config.keysDir));
  const force = config.forceCode;
  const as = async (a: ClientAs) => {
    const token = await issuer.mintToken({
      roles: a.roles,
      force: a.force ?? force,
      orgKind: a.orgKind ?? 'police',
      subject: a.subject ?? `test-${a.roles.join('-')}`,
      kind: a.kind ?? (a.roles.includes('publisher') || a.roles.includes('router') ? 'client' : 'user'),
      ttlSec: a.ttlSec ?? 600,
      ...(a.audience ? { audience: a.audience } : { audience: devAudience(force) }),
    });
    return createClient({ url: node.url, token, ...(a.headers ? { headers: a.headers } : {}) });
  };
  return {
    node,
    config,
    databaseUrl,
    keys,
    issuer,
    client: await as({ roles: ['publisher'] }),
    investigator: await as({ roles: ['investigator'], headers: readHeaders(force) }),
    as,
    logs: text,
    close: () => node.close(),
  };
}
