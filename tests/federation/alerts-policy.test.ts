/**
 * Alerts go only where the owner's disclosure policy admits the recipient, on real nodes with the
 * real linkage service: GMP publishes an OPEN episode of a child that WMP (police) and PRV001 (a
 * commissioned provider) hold. The default policy admits a provider for the return home
 * interview only, never for MISSING_LIVE_SEARCH, the alert's purpose: PRV001 is neither asked
 * mcx.holders/1 nor alerted, nor counted towards the repeat threshold; WMP is alerted as before.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';

import {
  auditOps as auditAt,
  episodeInput,
  openInput,
  publishEpisode,
  publishSubject,
  alertsAt as readAlerts,
  syntheticChild,
  until,
} from '../testkit/alerts.js';
import { startFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

const ALERTS = gql`
  query Alerts {
    alerts(first: 200) {
      nodes {
        kind
        fromNode
        episode {
          owner
          id
        }
        holders {
          member
          subjects
          episodes
        }
      }
    }
  }
`;

type Alert = { kind: string; fromNode: string; episode: { owner: string; id: string }; holders: { member: string }[] };
const FORCES = ['GMP', 'WMP', 'PRV001'] as const;
type Force = (typeof FORCES)[number];
const { identity } = syntheticChild(454545, 1);
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-6', WMP: 'WMP-SUBJ-6', PRV001: 'PRV-SUBJ-6' };

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

function alertsAt(force: Force): Promise<Alert[]> {
  const provider = force === 'PRV001';
  return readAlerts<Alert>(nodes[force], ALERTS, {
    orgKind: provider ? 'provider' : 'police',
    headers: {
      'x-mcx-purpose': provider ? 'MISSING_RETURN_INTERVIEW' : 'MISSING_LIVE_SEARCH',
      'x-mcx-case-ref': `${force.slice(0, 3)}-26-3001`,
    },
  });
}

async function auditOps(force: Force, operation: string): Promise<{ action: string; requesting_node: string | null }[]> {
  return (await auditAt(nodes[force], operation)).map((e) => ({ action: e.action, requesting_node: e.requesting_node }));
}

beforeAll(async () => {
  ({ nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { PRV001: 'provider' },
  }));
  for (const force of FORCES) await publishSubject(nodes[force], REF[force], identity);
  // Two closed episodes at the provider, within the 90 days: with GMP's one they would reach the threshold of 3.
  for (let i = 0; i < 2; i++)
    expect((await publishEpisode(nodes.PRV001.client, episodeInput({ subjectRef: REF.PRV001 }))).errors).toEqual([]);
}, 180_000);

afterAll(() => close?.());

describe('a member the policy does not admit for the alert’s purpose', () => {
  it('is neither asked who holds the child nor alerted; WMP is alerted and GMP’s summary names WMP only', async () => {
    const input = openInput(REF.GMP, {
      ownerReference: 'GMP-MIS-6001',
      assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] },
    });
    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const gmp = await until('the summary at GMP', 10_000, async () => {
      const a = await alertsAt('GMP');
      return a.some((n) => n.kind === 'CROSS_MATCH_SUMMARY') ? a : null;
    });
    expect(gmp).toEqual([
      {
        kind: 'CROSS_MATCH_SUMMARY',
        fromNode: 'GMP',
        episode: { owner: 'GMP', id: input.id },
        holders: [{ member: 'WMP', subjects: 1, episodes: 0 }],
      },
    ]);
    const wmp = await until('the alert at WMP', 10_000, async () => {
      const a = await alertsAt('WMP');
      return a.length > 0 ? a : null;
    });
    expect(wmp).toEqual([{ kind: 'CROSS_MATCH', fromNode: 'GMP', episode: { owner: 'GMP', id: input.id }, holders: [] }]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await alertsAt('PRV001')).toEqual([]);
    expect(await auditOps('PRV001', 'peerHolders')).toEqual([]);
    expect(await auditOps('PRV001', 'peerAlert')).toEqual([]);
    expect(await auditOps('WMP', 'peerHolders')).toEqual([{ action: 'disclosure', requesting_node: 'GMP' }]);
  });
});
