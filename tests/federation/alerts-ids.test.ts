/**
 * Alert ids on real nodes: an alert's id is derived from its kind, sender, episode and recipient,
 * and a receiver takes no other. MPS, a member with its own real record key, sends WMP a validly
 * signed alert under the id GMP will give WMP's alert about an episode GMP has not yet published;
 * WMP refuses it, and GMP's real alert still arrives. An id already in the inbox with other bytes
 * is refused and flagged, never answered as a redelivery.
 */
import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_ALERT, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';
import { alertId } from '@mcx/node';
import { signNodeToken, signRecord } from '@mcx/signing';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';

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
const PUBLISH_SUBJECT = gql`
  mutation P($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      errors {
        field
        code
      }
    }
  }
`;

const FORCES = ['GMP', 'WMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];
type Alert = { id: string; kind: string; fromNode: string; episode: { owner: string; id: string } };
const [child] = syntheticChildren(1, { seed: 272727, referenceDate: '2026-11-22', nhsShare: 1 });
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const identity = { forename: child!.forename, surname: child!.surname, dob: child!.dob, sex: child!.sex ? SEX[child!.sex] : undefined };
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-9', WMP: 'WMP-SUBJ-9', MPS: 'MPS-SUBJ-9' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

async function alertsAt(force: Force): Promise<Alert[]> {
  const investigator = await nodes[force].as({ roles: ['investigator'], headers: readHeaders(force) });
  return ((await investigator.request(ALERTS)) as { alerts: { nodes: Alert[] } }).alerts.nodes;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An alert message as `from` signs it with its own real record key. */
function signedAlert(from: Force, to: Force, id: string, episodeId: string) {
  return signRecord(
    {
      schema: 'mcx.alert/1',
      id,
      kind: 'CROSS_MATCH',
      from,
      to,
      sentAt: new Date().toISOString(),
      yourSubjectRefs: [REF[to]],
      episode: { owner: from, id: episodeId, ownerReference: `${from}-FORGED`, contact24x7: null, riskGrade: 'LOW', reportedAt: null },
      threshold: null,
    },
    fed.keys[from]!.record,
  );
}

/** mcx.alert/1 sent by `from` to `to` through the peer endpoint, with `from`'s own node token. */
async function sendAlert(from: Force, to: Force, alert: { bytes: string; signature: string }) {
  const variables = { alert };
  const token = signNodeToken(
    {
      iss: from,
      aud: peerAudience(to),
      ttlSec: 30,
      claims: {
        act: { sub: 'system', iss: `https://login.example/${from.toLowerCase()}`, org: from, org_kind: 'police', role: 'investigator' },
        purpose: 'MISSING_LIVE_SEARCH',
        case_ref: `${from}-26-1`,
        caller_entry: `${from}:1`,
        req_hash: requestHash(PEER_ALERT.hash, variables),
      },
    },
    fed.keys[from]!.peerToken,
  );
  const res = await fetch(new URL(PEER_PATH, nodes[to].node.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: PEER_ALERT.hash, variables }),
  });
  return JSON.stringify(await res.json());
}

async function refusals(force: Force): Promise<{ outcome: string; reason: string | null }[]> {
  const sql = postgres(nodes[force].databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql`select outcome, entry->>'reason' as reason from audit_entries
                     where entry->'query'->>'operation' = 'peerAlert' and outcome = 'refused' order by seq`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], { capabilities: PEER_OPERATIONS.map((op) => op.name) }));
  for (const force of ['GMP', 'WMP'] as const) {
    const { publishSubject: r } = (await nodes[force].client.request(PUBLISH_SUBJECT, {
      input: { subjectRef: REF[force], reviewAt, identity },
    })) as { publishSubject: { errors: unknown[] } };
    expect(r.errors).toEqual([]);
  }
}, 180_000);

afterAll(() => close?.());

describe('an alert id taken by another member', () => {
  it('refuses a signed alert from MPS under the id of GMP’s alert for WMP; the real alert still arrives', async () => {
    const input = episodeInput({
      subjectRef: REF.GMP,
      status: 'OPEN',
      foundAt: null,
      foundPlace: null,
      foundBy: null,
      ownerReference: 'GMP-MIS-9001',
      assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] },
    });
    const taken = alertId('CROSS_MATCH', 'GMP', input.id!, 'WMP');
    const answer = await sendAlert('MPS', 'WMP', signedAlert('MPS', 'WMP', taken, input.id!));
    expect(answer).toContain('ALERT_ID_MISMATCH');
    expect(answer).not.toContain('firstDelivery');
    expect(await alertsAt('WMP')).toEqual([]);

    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const got = await until('GMP’s alert at WMP', 10_000, async () => {
      const a = await alertsAt('WMP');
      return a.length > 0 ? a : null;
    });
    expect(got).toEqual([{ id: taken, kind: 'CROSS_MATCH', fromNode: 'GMP', episode: { owner: 'GMP', id: input.id } }]);
    expect(await refusals('WMP')).toEqual([{ outcome: 'refused', reason: 'ALERT_ID_MISMATCH' }]);
  });

  it('refuses and flags an id already in the inbox with other bytes, never as a redelivery', async () => {
    const episodeId = '6f1e2d3c-4b5a-4697-8877-665544332211';
    const id = alertId('CROSS_MATCH', 'MPS', episodeId, 'WMP');
    const first = await sendAlert('MPS', 'WMP', signedAlert('MPS', 'WMP', id, episodeId));
    expect(first).toContain('"firstDelivery":true');
    await new Promise((r) => setTimeout(r, 5));
    const other = await sendAlert('MPS', 'WMP', signedAlert('MPS', 'WMP', id, episodeId));
    expect(other).toContain('ALERT_ID_CONFLICT');
    expect(other).not.toContain('firstDelivery');
    expect((await alertsAt('WMP')).filter((a) => a.id === id)).toHaveLength(1);
    expect((await refusals('WMP')).map((r) => r.reason)).toEqual(['ALERT_ID_MISMATCH', 'ALERT_ID_CONFLICT']);
  });
});
