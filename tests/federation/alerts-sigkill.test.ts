/**
 * An alert committed but not yet delivered survives the sending node's SIGKILL. GMP runs as its
 * own process (the real `mcx node start`); WMP, which holds the child, is down when GMP commits
 * the OPEN episode, so nothing can be delivered; GMP is killed with SIGKILL once the outbox row
 * is committed and its job is waiting to retry. With WMP back and GMP restarted on the same
 * database, WMP gets the alert exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';
import { createClient } from '@mcx/client';
import { freshMigratedDatabase, nodeLoginUrl } from '@mcx/db/testing';
import { PEER_OPERATIONS } from '@mcx/federation';
import { loadOrCreateDevIssuer, writeNodeKeys } from '@mcx/node';

import {
  episodeInput,
  PUBLISH_SUBJECT,
  publishEpisode,
  publishSubject,
  reviewAt,
  syntheticChild,
  until as untilEvery,
} from '../testkit/alerts.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const ALERTS = gql`
  query Alerts {
    alerts(first: 50) {
      nodes {
        kind
        fromNode
        episode {
          id
        }
      }
    }
  }
`;
const { identity } = syntheticChild(363636, 0);

let fed: TestFederation;
let wmp: TestNode;
let close: () => Promise<void>;
let gmpOwnerUrl: string;
let gmpEnv: Record<string, string>;
let gmpProcess: ChildProcess | null = null;
let gmpUrl: string;
let dataDir: string;

/** Polls every 200 ms; a probe that fails (GMP down, restarting) counts as nothing yet. */
const until = <T>(what: string, ms: number, probe: () => Promise<T | null>) => untilEvery(what, ms, () => probe().catch(() => null), 200);

/** Starts GMP as its own process and waits until it is ready. */
async function startGmp(): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'node', 'start'], {
    env: { ...process.env, ...gmpEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  gmpProcess = proc;
  await until(`GMP ready (${stderr.slice(-500)})`, 60_000, async () => ((await fetch(`${gmpUrl}/readyz`)).ok ? true : null));
}

async function ownerSql<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(gmpOwnerUrl, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  ({
    fed,
    nodes: { WMP: wmp },
    close,
  } = await startFederation(['GMP', 'WMP'] as const, {
    start: ['WMP'],
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  }));
  gmpUrl = fed.manifest.members.find((m) => m.code === 'GMP')!.endpoint;
  gmpOwnerUrl = await freshMigratedDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-gmp-'));
  writeNodeKeys(path.join(dataDir, 'keys'), fed.keys.GMP!);
  await loadOrCreateDevIssuer(dataDir);
  gmpEnv = {
    ...fed.nodeEnv('GMP'),
    MCX_ENV: 'test',
    MCX_FORCE_CODE: 'GMP',
    PORT: new URL(gmpUrl).port,
    DATABASE_URL: await nodeLoginUrl(gmpOwnerUrl),
    MCX_MIGRATION_DATABASE_URL: gmpOwnerUrl,
    MCX_DATA_DIR: dataDir,
    MCX_KEYS_DIR: path.join(dataDir, 'keys'),
    LOG_LEVEL: 'warn',
  };
  await startGmp();
  await publishSubject(wmp, 'WMP-SUBJ-2', identity);
}, 180_000);

afterAll(async () => {
  gmpProcess?.kill('SIGKILL');
  await close?.();
});

describe('the sending node SIGKILLed after the commit, before the delivery', () => {
  it('delivers after its restart, exactly once', async () => {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const token = await issuer.mintToken({
      roles: ['publisher'],
      force: 'GMP',
      orgKind: 'police',
      subject: 'gmp-system',
      kind: 'client',
      ttlSec: 600,
      audience: devAudience('GMP'),
    });
    const gmp = createClient({ url: gmpUrl, token });
    const subject = (await gmp.request(PUBLISH_SUBJECT, { input: { subjectRef: 'GMP-SUBJ-5', reviewAt: reviewAt(), identity } })) as {
      publishSubject: { errors: unknown[] };
    };
    expect(subject.publishSubject.errors).toEqual([]);

    // WMP goes down; GMP commits the open episode, and its cross-match cannot reach WMP.
    const wmpPort = new URL(wmp.node.url).port;
    await wmp.close();
    const input = episodeInput({ subjectRef: 'GMP-SUBJ-5', status: 'OPEN', foundAt: null, foundPlace: null, foundBy: null });
    expect((await publishEpisode(gmp, input)).errors).toEqual([]);
    expect(await ownerSql((sql) => sql`select kind from alert_outbox`)).toEqual([{ kind: 'CROSS_MATCH' }]);
    await until('the cross-match job waiting to retry', 30_000, () =>
      ownerSql(async (sql) =>
        (await sql`select 1 from pgboss.job where name = 'mcx-alert-crossmatch' and state = 'retry'`).length ? true : null,
      ),
    );
    gmpProcess!.kill('SIGKILL');
    await new Promise((r) => gmpProcess!.once('exit', r));
    expect(await ownerSql((sql) => sql`select count(*)::int as n from alert_deliveries where state = 'delivered'`)).toEqual([{ n: 0 }]);

    // WMP comes back on the same database; then GMP restarts.
    wmp = await startTestNode({
      force: 'WMP',
      keys: fed.keys.WMP!,
      databaseUrl: wmp.databaseUrl,
      issuer: wmp.issuer,
      env: { ...fed.nodeEnv('WMP'), PORT: wmpPort },
    });
    await startGmp();
    const investigator = await wmp.as({ roles: ['investigator'], headers: readHeaders('WMP') });
    const read = async () =>
      ((await investigator.request(ALERTS, {})) as { alerts: { nodes: { kind: string; fromNode: string; episode: { id: string } }[] } })
        .alerts.nodes;
    await until('the alert at WMP', 120_000, async () => ((await read()).length > 0 ? true : null));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await read()).toEqual([{ kind: 'CROSS_MATCH', fromNode: 'GMP', episode: { id: input.id } }]);
    expect(await ownerSql((sql) => sql`select count(*)::int as n from alert_deliveries where state = 'delivered'`)).toEqual([{ n: 1 }]);
    await wmp.close();
  }, 240_000);
});
