/**
 * Alert ids on real nodes: an alert's id is derived from its kind, sender, episode and recipient,
 * and a receiver takes no other. MPS, a member with its own real record key, sends WMP a validly
 * signed alert under the id GMP will give WMP's alert about an episode GMP has not yet published;
 * WMP refuses it, and GMP's real alert still arrives. An id already in the inbox with other bytes
 * is refused and flagged, never answered as a redelivery.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';
import { alertId } from '@mcx/node';

import {
  alertsAt,
  openInput,
  ownerSql,
  publishEpisode,
  publishSubject,
  sendAlert,
  signedAlert,
  syntheticChild,
  until,
} from '../testkit/alerts.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

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

const FORCES = ['GMP', 'WMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];
type Alert = { id: string; kind: string; fromNode: string; episode: { owner: string; id: string } };
const { identity } = syntheticChild(272727, 1);
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-9', WMP: 'WMP-SUBJ-9', MPS: 'MPS-SUBJ-9' };

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

const alertsAtWmp = () => alertsAt<Alert>(nodes.WMP, ALERTS);

/** An alert message as `from` signs it with its own real record key. */
function forged(from: Force, to: Force, id: string, episodeId: string) {
  return signedAlert(fed, from, to, {
    id,
    episodeId,
    yourSubjectRefs: [REF[to]],
    episode: { owner: from, id: episodeId, ownerReference: `${from}-FORGED`, contact24x7: null, riskGrade: 'LOW', reportedAt: null },
  });
}

async function refusals(force: Force): Promise<{ outcome: string; reason: string | null }[]> {
  return ownerSql(
    nodes[force],
    (sql) => sql`select outcome, entry->>'reason' as reason from audit_entries
                 where entry->'query'->>'operation' = 'peerAlert' and outcome = 'refused' order by seq`,
  );
}

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], { capabilities: PEER_OPERATIONS.map((op) => op.name) }));
  for (const force of ['GMP', 'WMP'] as const) await publishSubject(nodes[force], REF[force], identity);
}, 180_000);

afterAll(() => close?.());

describe('an alert id taken by another member', () => {
  it('refuses a signed alert from MPS under the id of GMP’s alert for WMP; the real alert still arrives', async () => {
    const input = openInput(REF.GMP, { ownerReference: 'GMP-MIS-9001', assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] } });
    const taken = alertId('CROSS_MATCH', 'GMP', input.id!, 'WMP');
    const answer = await sendAlert(fed, nodes.WMP, 'MPS', forged('MPS', 'WMP', taken, input.id!));
    expect(answer).toContain('ALERT_ID_MISMATCH');
    expect(answer).not.toContain('firstDelivery');
    expect(await alertsAtWmp()).toEqual([]);

    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const got = await until('GMP’s alert at WMP', 10_000, async () => {
      const a = await alertsAtWmp();
      return a.length > 0 ? a : null;
    });
    expect(got).toEqual([{ id: taken, kind: 'CROSS_MATCH', fromNode: 'GMP', episode: { owner: 'GMP', id: input.id } }]);
    expect(await refusals('WMP')).toEqual([{ outcome: 'refused', reason: 'ALERT_ID_MISMATCH' }]);
  });

  it('refuses and flags an id already in the inbox with other bytes, never as a redelivery', async () => {
    const episodeId = '6f1e2d3c-4b5a-4697-8877-665544332211';
    const id = alertId('CROSS_MATCH', 'MPS', episodeId, 'WMP');
    const first = await sendAlert(fed, nodes.WMP, 'MPS', forged('MPS', 'WMP', id, episodeId));
    expect(first).toContain('"firstDelivery":true');
    await new Promise((r) => setTimeout(r, 5));
    const other = await sendAlert(fed, nodes.WMP, 'MPS', forged('MPS', 'WMP', id, episodeId));
    expect(other).toContain('ALERT_ID_CONFLICT');
    expect(other).not.toContain('firstDelivery');
    expect((await alertsAtWmp()).filter((a) => a.id === id)).toHaveLength(1);
    expect((await refusals('WMP')).map((r) => r.reason)).toEqual(['ALERT_ID_MISMATCH', 'ALERT_ID_CONFLICT']);
  });
});
