/**
 * Alerts go only where the owner's disclosure policy admits the recipient, on real nodes with the
 * real linkage service: GMP publishes an OPEN episode of a child that WMP (police) and PRV001 (a
 * commissioned provider) hold. The default policy admits a provider for the return home
 * interview only, never for MISSING_LIVE_SEARCH, the alert's purpose: PRV001 is neither asked
 * mcx.holders/1 nor alerted, nor counted towards the repeat threshold; WMP is alerted as before.
 */
import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
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

type Alert = { kind: string; fromNode: string; episode: { owner: string; id: string }; holders: { member: string }[] };
const FORCES = ['GMP', 'WMP', 'PRV001'] as const;
type Force = (typeof FORCES)[number];
const [child] = syntheticChildren(1, { seed: 454545, referenceDate: '2026-11-22', nhsShare: 1 });
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const identity = { forename: child!.forename, surname: child!.surname, dob: child!.dob, sex: child!.sex ? SEX[child!.sex] : undefined };
const REF: Record<Force, string> = { GMP: 'GMP-SUBJ-6', WMP: 'WMP-SUBJ-6', PRV001: 'PRV-SUBJ-6' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

async function alertsAt(force: Force): Promise<Alert[]> {
  const provider = force === 'PRV001';
  const reader = await nodes[force].as({
    roles: ['investigator'],
    orgKind: provider ? 'provider' : 'police',
    headers: {
      'x-mcx-purpose': provider ? 'MISSING_RETURN_INTERVIEW' : 'MISSING_LIVE_SEARCH',
      'x-mcx-case-ref': `${force.slice(0, 3)}-26-3001`,
    },
  });
  return ((await reader.request(ALERTS, {})) as { alerts: { nodes: Alert[] } }).alerts.nodes;
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

async function auditOps(force: Force, operation: string): Promise<{ action: string; requesting_node: string | null }[]> {
  const sql = postgres(nodes[force].databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await sql`select action, requesting_node from audit_entries where entry->'query'->>'operation' = ${operation} order by seq`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  ({ nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { PRV001: 'provider' },
  }));
  for (const force of FORCES) {
    const { publishSubject: r } = (await nodes[force].client.request(PUBLISH_SUBJECT, {
      input: { subjectRef: REF[force], reviewAt, identity },
    })) as { publishSubject: { errors: unknown[] } };
    expect(r.errors).toEqual([]);
  }
  // Two closed episodes at the provider, within the 90 days: with GMP's one they would reach the threshold of 3.
  for (let i = 0; i < 2; i++)
    expect((await publishEpisode(nodes.PRV001.client, episodeInput({ subjectRef: REF.PRV001 }))).errors).toEqual([]);
}, 180_000);

afterAll(() => close?.());

describe('a member the policy does not admit for the alert’s purpose', () => {
  it('is neither asked who holds the child nor alerted; WMP is alerted and GMP’s summary names WMP only', async () => {
    const input = episodeInput({
      subjectRef: REF.GMP,
      status: 'OPEN',
      foundAt: null,
      foundPlace: null,
      foundBy: null,
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
