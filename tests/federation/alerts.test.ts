/**
 * Alerts' cross-match on real nodes over loopback HTTP, with the real linkage service: GMP
 * publishes an OPEN episode for a child that WMP and MPS hold. Each holder has exactly one alert
 * within 5 s, GMP one naming WMP and MPS with their counts; both ends audit; no alert, log or
 * answer holds the child's name or date of birth. Then a holder down for 30 s still gets its
 * alert, exactly once, after it comes back.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';

import { auditOps as auditAt, episodeInput, openInput, publishEpisode, publishSubject, syntheticChild, until } from '../testkit/alerts.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';
import { memoryTelemetry } from '../testkit/telemetry.js';

const ALERTS = gql`
  query Alerts($after: Int, $first: Int) {
    alerts(after: $after, first: $first) {
      lastEventNumber
      nodes {
        id
        eventNumber
        kind
        fromNode
        yourSubjectRefs
        episode {
          owner
          id
          ownerReference
          contact24x7
          riskGrade
          reportedAt
        }
        holders {
          member
          subjects
          episodes
        }
        receivedAt
        acknowledgedAt
        acknowledgedBy
      }
    }
  }
`;
const ACK = gql`
  mutation Ack($id: ID!) {
    acknowledgeAlert(id: $id) {
      id
      acknowledgedAt
      acknowledgedBy
    }
  }
`;

type Alert = {
  id: string;
  eventNumber: number;
  kind: string;
  fromNode: string;
  yourSubjectRefs: string[];
  episode: { owner: string; id: string; ownerReference: string | null; contact24x7: string | null; riskGrade: string | null };
  holders: { member: string; subjects: number; episodes: number }[];
};

const FORCES = ['GMP', 'WMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];
const { child, identity } = syntheticChild(181818, 1);
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-3', WMP: 'WMP-SUBJ-1', MPS: 'MPS-SUBJ-7' };

// Every span any node makes in this file is kept, to be searched like the logs.
const telemetry = await memoryTelemetry();

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

async function alertsAt(force: Force): Promise<{ lastEventNumber: number; nodes: Alert[] }> {
  const investigator = await nodes[force].as({ roles: ['investigator'], headers: readHeaders(force) });
  return ((await investigator.request(ALERTS, { first: 200 })) as { alerts: { lastEventNumber: number; nodes: Alert[] } }).alerts;
}

/** The audit entries of `operation` at a node, read as its database owner. */
async function auditOps(force: Force, operation: string): Promise<{ action: string; requesting_node: string | null; outcome: string }[]> {
  return (await auditAt(nodes[force], operation)).map(({ action, requesting_node, outcome }) => ({ action, requesting_node, outcome }));
}

async function openEpisode(force: Force, ownerReference: string) {
  const input = openInput(REF[force], { ownerReference, assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] } });
  const r = await publishEpisode(nodes[force].client, input);
  expect(r.errors).toEqual([]);
  return input.id!;
}

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], { capabilities: PEER_OPERATIONS.map((op) => op.name) }));
  for (const force of FORCES) await publishSubject(nodes[force], REF[force], identity);
  // History at the holders: two closed episodes at WMP, one at MPS.
  for (const [force, n] of [
    ['WMP', 2],
    ['MPS', 1],
  ] as const) {
    for (let i = 0; i < n; i++)
      expect((await publishEpisode(nodes[force].client, episodeInput({ subjectRef: REF[force] }))).errors).toEqual([]);
  }
}, 180_000);

afterAll(() => close?.());

describe('cross-match on an OPEN episode', () => {
  let episodeId: string;
  const got: Partial<Record<Force, Alert[]>> = {};

  it('each holder has exactly one alert within 5 s: a child it holds is missing now at GMP', async () => {
    const t0 = Date.now();
    episodeId = await openEpisode('GMP', 'GMP-MIS-4471');
    for (const force of ['WMP', 'MPS'] as const) {
      got[force] = await until(`an alert at ${force}`, 5_000 - (Date.now() - t0), async () => {
        const a = await alertsAt(force);
        return a.nodes.length > 0 ? a.nodes : null;
      });
    }
    expect(Date.now() - t0).toBeLessThan(5_000);
    for (const force of ['WMP', 'MPS'] as const) {
      expect(got[force]).toHaveLength(1);
      expect(got[force]![0]).toMatchObject({
        eventNumber: 1,
        kind: 'CROSS_MATCH',
        fromNode: 'GMP',
        yourSubjectRefs: [REF[force]],
        episode: { owner: 'GMP', id: episodeId, ownerReference: 'GMP-MIS-4471', contact24x7: '+44 100 000 0000', riskGrade: 'HIGH' },
        holders: [],
      });
    }
  });

  it('GMP has one alert naming WMP and MPS, with their counts', async () => {
    const summary = await until('the summary at GMP', 5_000, async () => {
      const a = await alertsAt('GMP');
      return a.nodes.length > 0 ? a.nodes : null;
    });
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ kind: 'CROSS_MATCH_SUMMARY', fromNode: 'GMP', yourSubjectRefs: [REF.GMP] });
    expect([...summary[0]!.holders].sort((a, b) => a.member.localeCompare(b.member))).toEqual([
      { member: 'MPS', subjects: 1, episodes: 1 },
      { member: 'WMP', subjects: 1, episodes: 2 },
    ]);
  });

  it('stays exactly one alert at each node (no redelivery is stored twice)', async () => {
    await new Promise((r) => setTimeout(r, 2_000));
    for (const force of FORCES) expect((await alertsAt(force)).nodes).toHaveLength(1);
  });

  it('audits at both ends: the cross-match and each delivery at GMP, the question and the alert at each holder', async () => {
    expect(await auditOps('GMP', 'alertCrossMatch')).toEqual([{ action: 'consultation', requesting_node: null, outcome: 'success' }]);
    expect(await auditOps('GMP', 'alertDelivery')).toHaveLength(2);
    for (const force of ['WMP', 'MPS'] as const) {
      expect(await auditOps(force, 'peerHolders')).toEqual([{ action: 'disclosure', requesting_node: 'GMP', outcome: 'success' }]);
      expect(await auditOps(force, 'peerAlert')).toEqual([{ action: 'collection', requesting_node: 'GMP', outcome: 'success' }]);
      expect((await auditOps(force, 'alerts')).length).toBeGreaterThan(0);
    }
  });

  it('acknowledges an alert, audited; an unknown id is ALERT_NOT_FOUND', async () => {
    const investigator = await nodes.WMP.as({ roles: ['investigator'], headers: readHeaders('WMP'), subject: 'inv-ack' });
    const id = got.WMP![0]!.id;
    const { acknowledgeAlert } = (await investigator.request(ACK, { id })) as { acknowledgeAlert: { acknowledgedBy: string } };
    // The acknowledger is named to themselves as "you" (stored as issuer and subject), never by their subject id.
    expect(acknowledgeAlert.acknowledgedBy).toBe('you');
    expect(await auditOps('WMP', 'acknowledgeAlert')).toEqual([{ action: 'alteration', requesting_node: null, outcome: 'success' }]);
    await expect(investigator.request(ACK, { id: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/ALERT_NOT_FOUND|no alert/);
  });

  it('no alert, log, span or answer holds the child’s name or date of birth', async () => {
    const needles = [child.forename!, child.surname!, child.dob!, child.nhsNumber!].filter(Boolean);
    for (const force of FORCES) {
      const text = JSON.stringify(await alertsAt(force)) + nodes[force].logs();
      for (const n of needles) expect(text.toLowerCase()).not.toContain(n.toLowerCase());
    }
    expect(fed.linkageLogs()).not.toContain(child.surname!);
    const spans = telemetry.finishedSpans();
    expect(
      spans.filter((s) => s.name === 'mcx.peer.call' && JSON.stringify(s.attributes).includes('mcx.alert/1')).length,
    ).toBeGreaterThanOrEqual(2);
    const traced = JSON.stringify(spans).toLowerCase();
    for (const n of needles) expect(traced).not.toContain(n.toLowerCase());
  });
});

describe('a holder down for 30 s, then up', () => {
  it('gets its alert exactly once after it comes back', async () => {
    const mps = nodes.MPS;
    const port = new URL(mps.node.url).port;
    await mps.close();
    const episodeId = await openEpisode('GMP', 'GMP-MIS-4472');
    // WMP, up, has its second alert at once; MPS is down.
    await until('the second alert at WMP', 5_000, async () => ((await alertsAt('WMP')).nodes.length === 2 ? true : null));
    await new Promise((r) => setTimeout(r, 30_000));
    nodes.MPS = await startTestNode({
      force: 'MPS',
      keys: fed.keys.MPS!,
      databaseUrl: mps.databaseUrl,
      issuer: mps.issuer,
      env: { ...fed.nodeEnv('MPS'), PORT: port },
    });
    const alerts = await until('the alert at MPS after its return', 150_000, async () => {
      const a = await alertsAt('MPS');
      return a.nodes.some((n) => n.episode.id === episodeId) ? a : null;
    });
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await alertsAt('MPS');
    expect(after.nodes.filter((n) => n.episode.id === episodeId)).toHaveLength(1);
    // Event numbers run on without a gap.
    expect(after.nodes.map((n) => n.eventNumber)).toEqual([1, 2]);
    expect(alerts.lastEventNumber).toBe(2);
    // And GMP's summary for the second episode names MPS too, once it answered.
    const gmp = await until('the second summary at GMP', 10_000, async () => {
      const a = await alertsAt('GMP');
      return a.nodes.length === 2 ? a.nodes : null;
    });
    expect(gmp[1]!.holders.map((h) => h.member).sort()).toEqual(['MPS', 'WMP']);
  }, 240_000);
});
