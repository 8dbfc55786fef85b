import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { addKeyVersion, newKeysFile, parseLinkageConfig, startLinkageService, type RunningLinkageService } from '@mcx/linkage-service';
import { generateNodeKeys, manifestKeys, type NodeKeys, type PeerAnswerFault } from '@mcx/node';
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
import { startTestNode, type TestNode } from './node.js';

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

/**
 * Ports for nodes whose endpoints the manifest must name before they start: probed free, then
 * bound by the node a moment later. They are drawn below Linux's ephemeral range (32768 and up),
 * where the kernel picks the local ports of outgoing connections and of listen(0): a port probed
 * there could be taken by any connection before the node binds it (seen in a full run as
 * EADDRINUSE). Each vitest worker draws from its own slice (VITEST_POOL_ID), in turn from a random
 * start, so neither two workers nor two calls in one process pick the same port.
 */
const PORT_BASE = 20_000;
const PORT_SLICE = 1_500;
const portSlice = (Number(process.env.VITEST_POOL_ID ?? 0) % 8) * PORT_SLICE;
let portTurn = Math.floor(Math.random() * PORT_SLICE);

/** A free loopback port, for a node whose endpoint the manifest must name before it starts. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let tries = 0; tries < PORT_SLICE; tries++) {
    const port = PORT_BASE + portSlice + (portTurn++ % PORT_SLICE);
    if (await free(port)) return port;
  }
  throw new Error(`no free loopback port in ${PORT_BASE + portSlice}-${PORT_BASE + portSlice + PORT_SLICE - 1}`);
}

/** The federation status row of one member in a federated answer; a missing row fails the test by name. */
export function memberRow<Row extends { member: string }>(answer: { federation: { members: Row[] } }, member: string): Row {
  const row = answer.federation.members.find((m) => m.member === member);
  if (!row) throw new Error(`no federation status row for ${member} (rows: ${answer.federation.members.map((m) => m.member).join(', ')})`);
  return row;
}

export interface PeerFaults {
  /** The hook to start `member`'s node with (startTestNode's peerAnswerFault); honest until a fault is set. */
  hook(member: string): PeerAnswerFault;
  /** Delays each of `member`'s answers by `ms` until disposed. */
  slow(member: string, ms: number): Disposable;
  /** Replaces each of `member`'s answers with what `lie` makes of it until disposed. */
  lie(member: string, lie: PeerAnswerFault): Disposable;
}

/**
 * Faults injected into real members' answers: the member's node runs its real peer endpoint and
 * the hook only delays or rewrites the signed answer on its way out. `using _ = faults.slow('WYP', 1500)`
 * holds the fault for the rest of the block, so a failing assertion cannot leave the member faulty.
 */
export function peerFaults(): PeerFaults {
  const faults = new Map<string, PeerAnswerFault>();
  const set = (member: string, fault: PeerAnswerFault): Disposable => {
    faults.set(member, fault);
    return {
      [Symbol.dispose]() {
        if (faults.get(member) === fault) faults.delete(member);
      },
    };
  };
  return {
    hook: (member) => async (answer) => (faults.get(member) ?? (async (a) => a))(answer),
    slow: (member, ms) => set(member, (answer) => new Promise((resolve) => setTimeout(() => resolve(answer), ms))),
    lie: (member, lie) => set(member, lie),
  };
}

type FederationOptions = NonNullable<Parameters<typeof createFederation>[1]>;
type NodeOptions = NonNullable<Parameters<typeof startTestNode>[0]>;

/**
 * A federation whose members are real nodes on loopback: each member's manifest endpoint is the port
 * its node listens on. Only the members in `start` (all by default) run, for tests that only need
 * a receiving end; the others are members by their keys alone.
 */
export async function startFederation<M extends string>(
  members: readonly M[],
  opts: FederationOptions & {
    start?: readonly M[];
    env?: Record<string, string>;
    node?: (member: M) => Omit<NodeOptions, 'force' | 'keys'>;
  } = {},
): Promise<{ fed: TestFederation; nodes: Record<M, TestNode>; close(): Promise<void> }> {
  const { start = members, env = {}, node = (): Omit<NodeOptions, 'force' | 'keys'> => ({}), ...federation } = opts;
  const ports = Object.fromEntries(await Promise.all(members.map(async (m) => [m, await freePort()] as const))) as Record<M, number>;
  const fed = await createFederation([...members], {
    endpoints: Object.fromEntries(members.map((m) => [m, `http://127.0.0.1:${ports[m]}`])),
    ...federation,
  });
  const nodes = {} as Record<M, TestNode>;
  await Promise.all(
    start.map(async (m) => {
      const own = node(m);
      nodes[m] = await startTestNode({
        ...own,
        force: m,
        keys: fed.keys[m]!,
        env: { ...fed.nodeEnv(m), ...env, ...own.env, PORT: String(ports[m]) },
      });
    }),
  );
  return {
    fed,
    nodes,
    async close() {
      await Promise.all(start.map((m) => nodes[m]?.close().catch(() => undefined)));
      await fed.close();
    },
  };
}
