// The federation under test for tests/bench/federation-bench.ts: real nodes on loopback in this
// process, each over its own database on the bench's PostgreSQL, under a real signed manifest.
import path from 'node:path';
import { Writable } from 'node:stream';

import { createDevIssuer, devAudience } from '@mcx/auth';
import { createClient, FederatedEpisodesDocument, McxClientError, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { createFreshDatabase, runMigrations } from '@mcx/db';
import { PEER_HISTORY } from '@mcx/federation';
import { createLogger } from '@mcx/logger';
import { parseConfig, startNode, type NodeKeys, type RunningNode } from '@mcx/node';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import type { BenchServer } from './federation-bench-support.js';

export const TEN = ['WMP', 'GMP', 'MPS', 'WYP', 'BTP', 'ASP', 'ESSEX', 'DC', 'CHES', 'CUMB'];
export const THREE = ['WMP', 'GMP', 'MPS'];
export const CALLER = 'WMP';
export const EPISODES_PER_NODE = 3;
export const OPEN_LOOP_SECONDS = 15;
export const CLOSED_LOOP_SECONDS = 4;
export const CONCURRENCY = [1, 2, 4, 8, 16];
/** A rate the 10-node federation sustains on a small machine, for the CPU-per-query figure. */
export const SUSTAINABLE_RATE = 2;
// Breakers as shipped (5 consecutive failures) but half-opening after 2 s rather than 30 s, so an
// overloaded phase does not leave the next one answering CIRCUIT_OPEN.
export const NODE_ENV = {
  MCX_PEER_TIMEOUT_MS: '1000',
  MCX_FEDERATION_DEADLINE_MS: '1500',
  MCX_PEER_BREAKER_HALF_OPEN_MS: '2000',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
  MCX_ENV: 'test',
};
// Synthetic: no such child exists. Sent as input, never printed.
export const CHILD = { forename: 'Rosalind', surname: 'Quennell', dob: '2011-04-09', sex: 'FEMALE' as const, nhsNumber: '9990001413' };
export const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

/** Node log lines at warn and above are counted (messages kept, never fields), not printed as they come. */
export const logCounts = { warn: 0, error: 0, first: [] as string[], firstErrors: [] as string[] };
export const logSink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      let level = 'unparsed';
      let msg = '';
      try {
        ({ level = 'unknown', msg = '' } = JSON.parse(line) as { level?: string; msg?: string });
      } catch {
        // Not JSON: counted as an error, and named as such below.
      }
      if (level === 'warn') logCounts.warn++;
      else logCounts.error++;
      if (logCounts.first.length < 3) logCounts.first.push(`${level}: ${msg}`);
      if (level !== 'warn' && logCounts.firstErrors.length < 3) logCounts.firstErrors.push(`${level}: ${msg}`);
    }
    cb();
  },
});
export const nodeLogger = createLogger({ level: 'warn', destination: logSink });

/** Ten nodes starting in one process can hold its event loop long enough for a node to shed (503): wait and ask again. */
async function retryShed<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof McxClientError) || err.status !== 503 || attempt === 5) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export interface BenchNode {
  force: string;
  node: RunningNode;
  investigator: McxClient;
  /** The investigator's token, for a client in another process (federation-bench-investigator.ts). */
  investigatorToken: string;
  close(): Promise<void>;
}

export interface BenchFederation {
  forces: string[];
  fed: TestFederation;
  nodes: Record<string, BenchNode>;
  close(): Promise<void>;
}

/** The federation's manifest and linkage service, a port and a migrated database per force: what the nodes start from. */
export async function prepareFederation(server: BenchServer, forces: string[]) {
  const ports = Object.fromEntries(await Promise.all(forces.map(async (f) => [f, await freePort()] as const)));
  const fed = await createFederation(forces, {
    endpoints: Object.fromEntries(forces.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
    capabilities: [PEER_HISTORY.name],
    linkageDatabaseUrl: await createFreshDatabase(server.adminUrl, 'mcx_fedbench_linkage'),
  });
  // Databases and migrations two at a time: the machine has 2 cores.
  const urls: Record<string, string> = {};
  for (let i = 0; i < forces.length; i += 2) {
    await Promise.all(
      forces.slice(i, i + 2).map(async (force) => {
        const url = await createFreshDatabase(server.adminUrl, `mcx_fedbench_${force.toLowerCase()}`);
        await runMigrations(url);
        urls[force] = url;
      }),
    );
  }
  /** The node's environment, as parseConfig takes it. */
  const env = (force: string, dataDir: string): Record<string, string> => ({
    ...NODE_ENV,
    ...fed.nodeEnv(force),
    MCX_FORCE_CODE: force,
    PORT: String(ports[force]),
    DATABASE_URL: urls[force]!,
    MCX_DATA_DIR: path.join(dataDir, force),
  });
  return { fed, urls, env };
}

/** The investigator's client at a node, with the purpose and case reference a live search sends. */
export function investigatorClient(url: string, token: string, force: string): McxClient {
  return createClient({
    url,
    token,
    headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': `${force.slice(0, 4)}-26-1001` },
  });
}

/**
 * Starts one node (in whichever process calls it) and publishes the child at it: `copies` subjects,
 * each with EPISODES_PER_NODE episodes. The investigator's token is returned for a client elsewhere.
 */
export async function startBenchNode(force: string, env: Record<string, string>, keys: NodeKeys, copies: number): Promise<BenchNode> {
  const config = parseConfig(env);
  const issuer = await createDevIssuer();
  const node = await startNode(config, nodeLogger.child({ force }), env.DATABASE_URL!, { keys, devIssuer: issuer });
  const mint = (roles: ('publisher' | 'investigator')[], kind: 'client' | 'user') =>
    issuer.mintToken({
      roles,
      force,
      orgKind: 'police',
      subject: `bench-${roles.join('-')}`,
      kind,
      ttlSec: 3600,
      audience: devAudience(force),
    });
  const publisher = createClient({ url: node.url, token: await mint(['publisher'], 'client') });
  const investigatorToken = await mint(['investigator'], 'user');
  for (let c = 1; c <= copies; c++) {
    const { publishSubject } = await retryShed(() =>
      publisher.request(PublishSubjectDocument, { input: { subjectRef: `SUBJ-${force}-${c}`, reviewAt, identity: CHILD } }),
    );
    if (publishSubject.errors.length)
      throw new Error(`publishSubject at ${force}: ${publishSubject.errors.map((e) => e.field).join(', ')}`);
    for (let i = 0; i < EPISODES_PER_NODE; i++) {
      const { errors } = await retryShed(() => publishEpisode(publisher, episodeInput({ subjectRef: `SUBJ-${force}-${c}` })));
      if (errors.length) throw new Error(`publishEpisode at ${force}: ${JSON.stringify(errors.map((e) => e.field))}`);
    }
  }
  return {
    force,
    node,
    investigator: investigatorClient(node.url, investigatorToken, force),
    investigatorToken,
    close: () => node.close(),
  };
}

/** Every node in this process. `copies`: subjects of the child at every node; the central copy holds one per force. */
export async function startFederation(server: BenchServer, forces: string[], dataDir: string, copies = 1): Promise<BenchFederation> {
  const { fed, env } = await prepareFederation(server, forces);
  const nodes: Record<string, BenchNode> = {};
  await Promise.all(
    forces.map(async (force) => {
      nodes[force] = await startBenchNode(force, env(force, dataDir), fed.keys[force]!, copies);
    }),
  );
  return {
    forces,
    fed,
    nodes,
    close: async () => {
      await Promise.all(Object.values(nodes).map((n) => n.close().catch(() => undefined)));
      await fed.close();
    },
  };
}

export interface Answer {
  complete: boolean;
  strong: number;
  /** `STATUS/reason` of each member that did not answer cleanly. */
  problems: string[];
  /** Refused at once by the caller (503 with Retry-After): load shed, not an answer. */
  shed?: boolean;
}

/** Counts of `STATUS/reason` of members that did not answer, for the runs' notes. */
export function tally(into: Map<string, number>, problems: readonly string[]) {
  for (const p of problems) into.set(p, (into.get(p) ?? 0) + 1);
}
export const showTally = (t: Map<string, number>) =>
  [...t.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, n]) => `${k} x${n}`)
    .join(', ');

export function asker(f: BenchFederation): () => Promise<Answer> {
  return askerAt(f.nodes[CALLER]!.investigator);
}

/** federatedEpisodes(identity) asked through `client`, counted as the runs count it. */
export function askerAt(client: McxClient): () => Promise<Answer> {
  return async () => {
    const sent = await client.raw(FederatedEpisodesDocument, { identity: CHILD });
    // Refused at the caller's gate (503, FEDERATION_BUSY): shed, not failed.
    if (sent.status === 503) return { complete: false, strong: 0, problems: [], shed: true };
    if (sent.errors.length || !sent.data) throw new Error(`federatedEpisodes: ${sent.status} ${sent.errors[0]?.message ?? ''}`);
    const r = sent.data.federatedEpisodes;
    const problems = r.federation.members.filter((m) => m.status !== 'ANSWERED').map((m) => `${m.status}/${m.reason ?? '-'}`);
    return { complete: r.federation.completeness === 'COMPLETE', strong: r.strong.length, problems };
  };
}
