/**
 * Alerts about episodes a reader may no longer see, on real nodes: GMP publishes OPEN episodes of
 * a child WMP holds. One restricted while WMP is down, and one retracted while WMP is down, alert
 * nobody once WMP is back, and the cross-match job ends without a retry or a dead letter. One
 * restricted while WMP answers the cross-match question is withheld at delivery: nothing reaches
 * WMP, and the delivery is kept as withheld, not dead.
 */
import { gql } from 'graphql-tag';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';

import {
  openInput as openEpisodeInput,
  ownerSql,
  publishEpisode,
  publishSubject,
  alertsAt as readAlerts,
  syntheticChild,
  until as untilEvery,
} from '../testkit/alerts.js';
import { peerFaults, startFederation, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { restrictRecord, retractRecord } from '../testkit/records.js';

const ALERTS = gql`
  query Alerts {
    alerts(first: 200) {
      nodes {
        id
        kind
        fromNode
        episode {
          owner
          id
        }
      }
    }
  }
`;

const FORCES = ['GMP', 'WMP'] as const;
type Force = (typeof FORCES)[number];
type Alert = { id: string; kind: string; fromNode: string; episode: { owner: string; id: string } };
const { identity } = syntheticChild(363636, 1);
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-5', WMP: 'WMP-SUBJ-5' };

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
const faults = peerFaults();

const alertsAt = (force: Force) => readAlerts<Alert>(nodes[force], ALERTS);

/** Polls every 200 ms. */
const until = <T>(what: string, ms: number, probe: () => Promise<T | null>) => untilEvery(what, ms, probe, 200);

const atGmp = <T>(query: (sql: postgres.Sql) => Promise<T>): Promise<T> => ownerSql(nodes.GMP, query);

/** The cross-match job and deliveries about an episode at GMP, and GMP's dead letters. */
async function jobsAbout(episodeId: string) {
  return atGmp(async (sql) => ({
    crossMatch: await sql<{ state: string; retry_count: number }[]>`
      select j.state, j.retry_count from pgboss.job j join alert_outbox o on o.job_id = j.id
      where o.payload->>'episodeId' = ${episodeId}`,
    // Every dead letter at GMP, about this episode or any other.
    dead: (await sql<{ n: number }[]>`select count(*)::int as n from pgboss.job where name = 'mcx-alert-dead'`)[0]!.n,
    deliveries: await sql<{ state: string; last_error: string | null }[]>`
      select d.state, d.last_error from alert_deliveries d join alert_outbox o on o.id = d.outbox_id
      where o.payload->>'episodeId' = ${episodeId}`,
  }));
}

function openInput(ownerReference: string) {
  return openEpisodeInput(REF.GMP, { ownerReference, assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] } });
}

async function restartWmp(down: () => Promise<void>) {
  const wmp = nodes.WMP;
  const port = new URL(wmp.node.url).port;
  await wmp.close();
  await down();
  nodes.WMP = await startTestNode({
    force: 'WMP',
    keys: fed.keys.WMP!,
    databaseUrl: wmp.databaseUrl,
    issuer: wmp.issuer,
    env: { ...fed.nodeEnv('WMP'), PORT: port },
  });
}

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    node: (m) => ({ peerAnswerFault: faults.hook(m) }),
  }));
  for (const force of FORCES) await publishSubject(nodes[force], REF[force], identity);
}, 180_000);

afterAll(() => close?.());

describe('an episode no longer readable alerts nobody', () => {
  it('restricted while WMP answers the cross-match: withheld at delivery, nothing reaches WMP, not dead-lettered', async () => {
    const input = openInput('GMP-MIS-5001');
    let restricted = false;
    using _ = faults.lie('WMP', async (answer) => {
      const data = answer.data as Record<string, unknown> | null;
      if (data && 'peerHolders' in data && !restricted) {
        expect((await restrictRecord(nodes.GMP.client, 'EPISODE', input.id!)).errors).toEqual([]);
        restricted = true;
      }
      return answer;
    });
    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const jobs = await until('the delivery withheld at GMP', 20_000, async () => {
      const j = await jobsAbout(input.id!);
      return j.deliveries.length > 0 && j.deliveries.every((d) => d.state === 'withheld') ? j : null;
    });
    expect(restricted).toBe(true);
    expect(jobs.deliveries).toEqual([{ state: 'withheld', last_error: 'WITHHELD:RESTRICTED' }]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await alertsAt('WMP')).toEqual([]);
    expect((await jobsAbout(input.id!)).dead).toBe(0);
  });

  it('restricted while WMP is down: nothing about it once WMP is back, and the job ends', async () => {
    const input = openInput('GMP-MIS-5002');
    await restartWmp(async () => {
      expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
      await until('the cross-match tried', 10_000, async () => ((await jobsAbout(input.id!)).crossMatch.length > 0 ? true : null));
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await restrictRecord(nodes.GMP.client, 'EPISODE', input.id!)).errors).toEqual([]);
    });
    const jobs = await until('the cross-match job completed', 60_000, async () => {
      const j = await jobsAbout(input.id!);
      return j.crossMatch[0]?.state === 'completed' ? j : null;
    });
    expect(jobs.deliveries).toEqual([]);
    expect(jobs.dead).toBe(0);
    expect((await alertsAt('WMP')).filter((a) => a.episode.id === input.id)).toEqual([]);
    expect((await alertsAt('GMP')).filter((a) => a.episode.id === input.id)).toEqual([]);
  }, 120_000);

  it('retracted while WMP is down: nothing about it, and the job ends without retries or a dead letter', async () => {
    const input = openInput('GMP-MIS-5003');
    await restartWmp(async () => {
      expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
      await until('the cross-match tried', 10_000, async () => ((await jobsAbout(input.id!)).crossMatch.length > 0 ? true : null));
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await retractRecord(nodes.GMP.client, 'EPISODE', input.id!, 2)).errors).toEqual([]);
    });
    const jobs = await until('the cross-match job completed', 60_000, async () => {
      const j = await jobsAbout(input.id!);
      return j.crossMatch[0]?.state === 'completed' ? j : null;
    });
    const retries = jobs.crossMatch[0]!.retry_count;
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await jobsAbout(input.id!);
    expect(after.crossMatch).toEqual([{ state: 'completed', retry_count: retries }]);
    expect(after.deliveries).toEqual([]);
    expect(after.dead).toBe(0);
    expect((await alertsAt('WMP')).filter((a) => a.episode.id === input.id)).toEqual([]);
    expect((await alertsAt('GMP')).filter((a) => a.episode.id === input.id)).toEqual([]);
  }, 120_000);
});
