/**
 * The cross-match against slow, lying and quiet members, on real nodes with the real linkage
 * service. GMP publishes OPEN episodes of children WMP and MPS hold; LALANC (a local authority)
 * places them. GMP's policy does not let a local authority read episodes. A member slow past the
 * deadline does not hold up GMP's summary beyond the wait (it is named as not answered), and a
 * retry asks only it again; a member claiming a million episodes is refused and flagged, and
 * alerts nobody; the threshold alerts once when the count jumps from below it to above it, with
 * totals shaped per recipient and no holder listed that counted nothing; a dead cross-match shows
 * to operators.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { gql } from 'graphql-tag';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nodeLoginUrl } from '@mcx/db/testing';
import { PEER_OPERATIONS } from '@mcx/federation';

import {
  alertsAt,
  auditOps,
  episodeInput,
  ownerSql,
  publishEpisode,
  publishOpen,
  publishSubject,
  syntheticChild,
  until,
  withEnv,
} from '../testkit/alerts.js';
import { peerFaults, startFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

const ALERTS = gql`
  query Alerts {
    alerts(first: 200) {
      nodes {
        kind
        fromNode
        yourSubjectRefs
        episode {
          id
        }
        holders {
          member
          subjects
          episodes
        }
        threshold {
          count
          days
          episodes
        }
        notAnswered
      }
    }
  }
`;
const DELIVERY = gql`
  query D {
    alertDelivery {
      deadCrossMatches {
        id
        episodeId
        notAnswered
        deadAt
      }
      flaggedMembers {
        member
        reason
      }
    }
  }
`;
type Alert = {
  kind: string;
  fromNode: string;
  yourSubjectRefs: string[];
  episode: { id: string };
  holders: { member: string; subjects: number; episodes: number }[];
  threshold: { count: number; days: number; episodes: number | null } | null;
  notAnswered: string[];
};
const FORCES = ['GMP', 'WMP', 'MPS', 'LALANC'] as const;
type Force = (typeof FORCES)[number];
const WAIT_SECONDS = 2;

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
let restoreEnv: () => void;
const faults = peerFaults();

const read = (force: Force) =>
  alertsAt<Alert>(
    nodes[force],
    ALERTS,
    force === 'LALANC'
      ? { orgKind: 'local_authority', headers: { 'x-mcx-purpose': 'MISSING_REVIEW', 'x-mcx-case-ref': 'LALA-26-2001' } }
      : {},
  );
const about = async (force: Force, episodeId: string, kind: string) =>
  (await read(force)).filter((a) => a.episode.id === episodeId && a.kind === kind);
const arrived = (force: Force, episodeId: string, kind: string, ms = 15_000) =>
  until(`${kind} at ${force}`, ms, async () => {
    const a = await about(force, episodeId, kind);
    return a.length > 0 ? a : null;
  });

/** GMP's policy: the defaults, but a local authority reads no episodes. */
function policyFile(): string {
  const policy = JSON.parse(readFileSync(new URL('../../deploy/disclosure-policy.json', import.meta.url), 'utf8')) as {
    version: string;
    readers: { local_authority: { kinds: string[] } };
  };
  policy.version = 'test-la-no-episodes';
  policy.readers.local_authority.kinds = ['associate', 'location_of_concern'];
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'mcx-policy-')), 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

/** One child held at GMP and at `holders`, each under its own reference. */
async function child(seed: number, tag: string, holders: Force[]): Promise<Record<Force, string>> {
  const { identity } = syntheticChild(seed, 0);
  const refs = Object.fromEntries(FORCES.map((f) => [f, `${f}-SUBJ-${tag}`])) as Record<Force, string>;
  for (const force of ['GMP' as const, ...holders]) await publishSubject(nodes[force], refs[force], identity);
  return refs;
}

beforeAll(async () => {
  restoreEnv = withEnv({ MCX_ALERT_HOLDERS_WAIT_SECONDS: String(WAIT_SECONDS) });
  const gmpPolicy = policyFile();
  ({ nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { LALANC: 'local_authority' },
    node: (m) => ({
      peerAnswerFault: faults.hook(m),
      ...(m === 'GMP' ? { env: { MCX_DISCLOSURE_POLICY_FILE: gmpPolicy } } : {}),
    }),
  }));
}, 180_000);

afterAll(async () => {
  await close?.();
  restoreEnv?.();
});

describe('a member slow past the deadline', () => {
  it('is named as not answered in a summary that waited no longer than the wait; a retry asks only it again', async () => {
    const refs = await child(616161, 'A', ['WMP', 'MPS']);
    const episodeId = await (async () => {
      using _slow = faults.slow('MPS', 4_000);
      const id = await publishOpen(nodes.GMP, refs.GMP);
      const [summary] = await arrived('GMP', id, 'CROSS_MATCH_SUMMARY', WAIT_SECONDS * 1000 + 10_000);
      expect(summary).toMatchObject({ holders: [{ member: 'WMP', subjects: 1, episodes: 0 }], notAnswered: ['MPS'] });
      expect(await about('MPS', id, 'CROSS_MATCH')).toEqual([]);
      return id;
    })();
    // MPS answers in time again: the retry reaches it, and its alert arrives; WMP, which answered, is not asked again.
    await arrived('MPS', episodeId, 'CROSS_MATCH', 30_000);
    expect(await about('WMP', episodeId, 'CROSS_MATCH')).toHaveLength(1);
    expect(await auditOps(nodes.WMP, 'peerHolders')).toHaveLength(1);
    expect((await auditOps(nodes.MPS, 'peerHolders')).length).toBeGreaterThanOrEqual(2);
    // The summary went out once, and stays as it was.
    expect(await about('GMP', episodeId, 'CROSS_MATCH_SUMMARY')).toHaveLength(1);
  }, 60_000);
});

describe('a member claiming a million episodes', () => {
  it('is refused and flagged: counted towards nothing, alerting nobody of a threshold, alerted of nothing', async () => {
    const refs = await child(626262, 'B', ['WMP', 'MPS']);
    using _lie = faults.lie('MPS', async (a) => {
      const answer = structuredClone(a) as { data: { peerHolders?: { matches: { episodes: number; recentEpisodes: number }[] } } };
      for (const m of answer.data.peerHolders?.matches ?? []) Object.assign(m, { episodes: 1_000_000, recentEpisodes: 1_000_000 });
      return answer;
    });
    const id = await publishOpen(nodes.GMP, refs.GMP);
    const [summary] = await arrived('GMP', id, 'CROSS_MATCH_SUMMARY');
    expect(summary!.holders).toEqual([{ member: 'WMP', subjects: 1, episodes: 0 }]);
    await arrived('WMP', id, 'CROSS_MATCH');
    await new Promise((r) => setTimeout(r, 1_500));
    for (const force of FORCES) expect(await about(force, id, 'REPEAT_THRESHOLD')).toEqual([]);
    expect(await about('MPS', id, 'CROSS_MATCH')).toEqual([]);
    const operator = await nodes.GMP.as({ roles: ['operator'] });
    const { alertDelivery } = (await operator.request(DELIVERY, {})) as { alertDelivery: { flaggedMembers: unknown[] } };
    expect(alertDelivery.flaggedMembers).toEqual([{ member: 'MPS', reason: 'HOLDERS_OUT_OF_RANGE' }]);
    expect(await auditOps(nodes.GMP, 'alertHoldersRefused')).toEqual([
      { action: 'collection', requesting_node: 'MPS', outcome: 'refused', reason: 'HOLDERS_OUT_OF_RANGE' },
    ]);
  });
});

describe('the repeat threshold (3 in 90 days)', () => {
  let refs: Record<Force, string>;

  it('is not reached at two episodes', async () => {
    // WMP holds one closed episode; MPS holds the child with none.
    refs = await child(636363, 'C', ['WMP', 'MPS']);
    expect((await publishEpisode(nodes.WMP.client, episodeInput({ subjectRef: refs.WMP }))).errors).toEqual([]);
    const id = await publishOpen(nodes.GMP, refs.GMP, { placingAuthority: 'LALANC' });
    await arrived('GMP', id, 'CROSS_MATCH_SUMMARY');
    for (const force of FORCES) expect(await about(force, id, 'REPEAT_THRESHOLD')).toEqual([]);
  });

  it('alerts once when the count jumps from below it (2) to above it (5), totals shaped per recipient, no holder listed that counted nothing', async () => {
    for (let i = 0; i < 2; i++) expect((await publishEpisode(nodes.WMP.client, episodeInput({ subjectRef: refs.WMP }))).errors).toEqual([]);
    const id = await publishOpen(nodes.GMP, refs.GMP, { placingAuthority: 'LALANC' });
    const base = { kind: 'REPEAT_THRESHOLD', fromNode: 'GMP', episode: { id }, notAnswered: [] };
    expect(await arrived('GMP', id, 'REPEAT_THRESHOLD')).toEqual([
      {
        ...base,
        yourSubjectRefs: [refs.GMP],
        holders: [{ member: 'WMP', subjects: 1, episodes: 3 }],
        threshold: { count: 3, days: 90, episodes: 5 },
      },
    ]);
    expect(await arrived('WMP', id, 'REPEAT_THRESHOLD')).toEqual([
      { ...base, yourSubjectRefs: [refs.WMP], holders: [], threshold: { count: 3, days: 90, episodes: 5 } },
    ]);
    // GMP's policy lets a local authority read no episode: it hears that the threshold was crossed, not the count.
    expect(await arrived('LALANC', id, 'REPEAT_THRESHOLD')).toEqual([
      { ...base, yourSubjectRefs: [], holders: [], threshold: { count: 3, days: 90, episodes: null } },
    ]);
  });

  it('a sixth episode, still above it, alerts nobody again', async () => {
    const id = await publishOpen(nodes.GMP, refs.GMP, { placingAuthority: 'LALANC' });
    await arrived('GMP', id, 'CROSS_MATCH_SUMMARY');
    await new Promise((r) => setTimeout(r, 1_500));
    for (const force of FORCES) expect((await read(force)).filter((a) => a.kind === 'REPEAT_THRESHOLD')).toHaveLength(1);
  });
});

describe('a cross-match given up after its retries', () => {
  it('shows to operators with the members that never answered', async () => {
    const outboxId = '33333333-3333-4333-8333-333333333333';
    const episodeId = '44444444-4444-4444-8444-444444444444';
    // A cross-match whose last run found MPS not answering (the owner's SQL stands in for sixteen retries).
    await ownerSql(
      nodes.GMP,
      (sql) => sql`insert into alert_outbox (id, kind, payload, enqueued_at, first_run_at, not_answered)
                   values (${outboxId}, 'CROSS_MATCH', ${sql.json({ episodeId })}, now(), now(), 'MPS')`,
    );
    // pg-boss moves a job past its retry limit to the dead-letter queue: the same, sent as the node's login.
    const boss = new PgBoss({
      connectionString: await nodeLoginUrl(nodes.GMP.databaseUrl),
      migrate: false,
      schedule: false,
      supervise: false,
      max: 1,
    });
    boss.on('error', () => undefined);
    await boss.start();
    try {
      expect(await boss.send('mcx-alert-dead', { outboxId })).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    const operator = await nodes.GMP.as({ roles: ['operator'] });
    const dead = await until('the dead cross-match', 10_000, async () => {
      const { alertDelivery } = (await operator.request(DELIVERY, {})) as { alertDelivery: { deadCrossMatches: unknown[] } };
      return alertDelivery.deadCrossMatches.length > 0 ? alertDelivery.deadCrossMatches : null;
    });
    expect(dead).toEqual([{ id: outboxId, episodeId, notAnswered: ['MPS'], deadAt: expect.any(String) }]);
  });
});
