/**
 * The repeat threshold across forces (default 3 in 90 days), on real nodes with the real linkage
 * service: the episode that makes the child's count across the federation reach the threshold
 * alerts every holder, the placing authority (a member) and the publisher, once; the next one
 * does not alert again.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';

import {
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
        yourSubjectRefs
        episode {
          owner
          id
        }
        threshold {
          count
          days
          episodes
        }
      }
    }
  }
`;

type Alert = {
  kind: string;
  fromNode: string;
  yourSubjectRefs: string[];
  episode: { owner: string; id: string };
  threshold: { count: number; days: number; episodes: number } | null;
};
const FORCES = ['GMP', 'WMP', 'LALANC'] as const;
type Force = (typeof FORCES)[number];
const { identity } = syntheticChild(272727, 0);

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

function alertsAt(force: Force): Promise<Alert[]> {
  return readAlerts<Alert>(nodes[force], ALERTS, {
    orgKind: force === 'LALANC' ? 'local_authority' : 'police',
    headers: { 'x-mcx-purpose': 'MISSING_REVIEW', 'x-mcx-case-ref': `${force.slice(0, 4)}-26-2001` },
  });
}

/** GMP publishes an OPEN episode of the child, placed by LALANC; resolves when GMP's summary for it is in (the job has run). */
async function openAtGmp(): Promise<string> {
  const input = openInput('GMP-SUBJ-9', { placingAuthority: 'LALANC' });
  expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
  await until('the cross-match summary at GMP', 10_000, async () =>
    (await alertsAt('GMP')).some((a) => a.kind === 'CROSS_MATCH_SUMMARY' && a.episode.id === input.id) ? true : null,
  );
  return input.id!;
}

beforeAll(async () => {
  ({ nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { LALANC: 'local_authority' },
  }));
  await publishSubject(nodes.GMP, 'GMP-SUBJ-9', identity);
  await publishSubject(nodes.WMP, 'WMP-SUBJ-4', identity);
  // One closed episode at WMP, reported two days ago: within the 90 days.
  expect((await publishEpisode(nodes.WMP.client, episodeInput({ subjectRef: 'WMP-SUBJ-4' }))).errors).toEqual([]);
}, 180_000);

afterAll(() => close?.());

describe('the repeat threshold across forces', () => {
  it('is not reached at two episodes: no threshold alert anywhere', async () => {
    await openAtGmp();
    for (const force of FORCES) expect((await alertsAt(force)).filter((a) => a.kind === 'REPEAT_THRESHOLD')).toEqual([]);
  });

  it('the third episode alerts the holder, the placing authority and the publisher once', async () => {
    const third = await openAtGmp();
    const expected = { count: 3, days: 90, episodes: 3 };
    const wmp = await until('the threshold alert at WMP', 10_000, async () => {
      const a = (await alertsAt('WMP')).filter((x) => x.kind === 'REPEAT_THRESHOLD');
      return a.length > 0 ? a : null;
    });
    const la = await until('the threshold alert at LALANC', 10_000, async () => {
      const a = (await alertsAt('LALANC')).filter((x) => x.kind === 'REPEAT_THRESHOLD');
      return a.length > 0 ? a : null;
    });
    expect(wmp).toEqual([
      {
        kind: 'REPEAT_THRESHOLD',
        fromNode: 'GMP',
        yourSubjectRefs: ['WMP-SUBJ-4'],
        episode: { owner: 'GMP', id: third },
        threshold: expected,
      },
    ]);
    expect(la).toEqual([
      { kind: 'REPEAT_THRESHOLD', fromNode: 'GMP', yourSubjectRefs: [], episode: { owner: 'GMP', id: third }, threshold: expected },
    ]);
    expect((await alertsAt('GMP')).filter((a) => a.kind === 'REPEAT_THRESHOLD')).toEqual([
      {
        kind: 'REPEAT_THRESHOLD',
        fromNode: 'GMP',
        yourSubjectRefs: ['GMP-SUBJ-9'],
        episode: { owner: 'GMP', id: third },
        threshold: expected,
      },
    ]);
  });

  it('the fourth does not alert again', async () => {
    await openAtGmp();
    await new Promise((r) => setTimeout(r, 2_000));
    for (const force of FORCES) expect((await alertsAt(force)).filter((a) => a.kind === 'REPEAT_THRESHOLD')).toHaveLength(1);
    // Each cross-match still reached WMP: one alert per open episode.
    expect((await alertsAt('WMP')).filter((a) => a.kind === 'CROSS_MATCH')).toHaveLength(3);
  });
});
