import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { PEER_OPERATIONS } from '@mcx/federation';
import { loadOrCreateDevIssuer } from '@mcx/node';

import { seedDemoChild } from '../../packages/cli/src/demo/demo-child.js';
import { createFederation, freePort, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

export const FORCES = ['WMP', 'GMP', 'MPS'] as const;
export type Force = (typeof FORCES)[number];

/** A stand-in for WMP's records system: answers an associate's name (invented) and counts the calls. */
export interface RecordsSystem {
  url: string;
  calls: number;
  close(): Promise<void>;
}

async function startRecordsSystem(): Promise<RecordsSystem> {
  const state = { calls: 0 };
  const server: Server = createServer((req, res) => {
    state.calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ givenName: 'Gideon', familyName: 'Crane' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/associates/name`,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The nodes' shared clock: real time moved by `offsetMs` (every node alike, so their tokens between them still verify). */
export interface SharedClock {
  offsetMs: number;
}

export interface ConsoleFederation {
  fed: TestFederation;
  clock: SharedClock;
  nodes: Record<Force, TestNode>;
  records: RecordsSystem;
  /** The console of WMP's node. */
  consoleUrl: string;
  close(): Promise<void>;
}

/**
 * Three real nodes (WMP, GMP, MPS) and the linkage service on loopback, every node answering the
 * others, with the demo's invented child published at each (packages/cli/src/demo/demo-child.ts).
 * The nodes share a data directory, so the development issuer the console signs in with is the
 * one the nodes trust.
 */
export async function startConsoleFederation(
  env: Record<string, string> = {},
  envFor: Partial<Record<Force, Record<string, string>>> = {},
): Promise<ConsoleFederation> {
  const clock: SharedClock = { offsetMs: 0 };
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-console-'));
  const issuer = await loadOrCreateDevIssuer(dataDir);
  const ports = Object.fromEntries(await Promise.all(FORCES.map(async (f) => [f, await freePort()] as const))) as Record<Force, number>;
  const fed = await createFederation([...FORCES], {
    endpoints: Object.fromEntries(FORCES.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  });
  const records = await startRecordsSystem();
  const nodes = {} as Record<Force, TestNode>;
  await Promise.all(
    FORCES.map(async (force) => {
      nodes[force] = await startTestNode({
        force,
        keys: fed.keys[force]!,
        issuer,
        now: () => new Date(Date.now() + clock.offsetMs),
        env: {
          ...fed.nodeEnv(force),
          PORT: String(ports[force]),
          MCX_DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          ...(force === 'WMP' ? { MCX_ASSOCIATE_DETAILS_URL: records.url } : {}),
          ...env,
          ...envFor[force],
        },
      });
    }),
  );
  await seedDemoChild({ WMP: nodes.WMP.client, GMP: nodes.GMP.client, MPS: nodes.MPS.client });
  // Owners count their associates' links in the background: count now, as the demo does.
  await Promise.all(FORCES.map((f) => nodes[f].node.app.services.linkCounts.changed()));
  return {
    fed,
    clock,
    nodes,
    records,
    consoleUrl: `${nodes.WMP.node.url}/console/`,
    async close() {
      await Promise.all(FORCES.map((f) => nodes[f].close()));
      await records.close();
      await fed.close();
    },
  };
}
