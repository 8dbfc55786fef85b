/**
 * Watches on real nodes with the real linkage service: WMP's investigator watches a child WMP
 * holds; GMP's OPEN episode for the child raises a WATCH alert naming the watch; a watch past its
 * expiry raises nothing. Watches are listed, renewed, cancelled, bounded to 90 days and audited
 * as consultations with their purpose and case reference (what the fishing alerts count).
 */
import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';

const WATCH = gql`
  mutation W($subjectRef: String!, $expiresAt: DateTime!) {
    watchChild(subjectRef: $subjectRef, expiresAt: $expiresAt) {
      id
      subjectRef
      purpose
      caseRef
      createdBy
      expiresAt
      cancelledAt
    }
  }
`;
const RENEW = gql`
  mutation R($id: ID!, $expiresAt: DateTime!) {
    renewWatch(id: $id, expiresAt: $expiresAt) {
      id
      expiresAt
    }
  }
`;
const CANCEL = gql`
  mutation C($id: ID!) {
    cancelWatch(id: $id) {
      id
      cancelledAt
    }
  }
`;
const WATCHES = gql`
  query L($ended: Boolean) {
    watches(ended: $ended) {
      id
      cancelledAt
    }
  }
`;
const ALERTS = gql`
  query A {
    alerts(first: 200) {
      nodes {
        kind
        fromNode
        yourSubjectRefs
        episode {
          id
        }
        watch {
          id
          purpose
          caseRef
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
      }
    }
  }
`;
type Alert = {
  kind: string;
  fromNode: string;
  yourSubjectRefs: string[];
  episode: { id: string };
  watch: { id: string; caseRef: string } | null;
};
type Watch = {
  id: string;
  subjectRef: string;
  purpose: string;
  caseRef: string;
  createdBy: string;
  expiresAt: string;
  cancelledAt: string | null;
};

const [child] = syntheticChildren(1, { seed: 454545, referenceDate: '2026-11-22', nhsShare: 0 });
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const identity = { forename: child!.forename, surname: child!.surname, dob: child!.dob, sex: child!.sex ? SEX[child!.sex] : undefined };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
const DAY = 86_400_000;

let nodes: Record<'GMP' | 'WMP', TestNode>;
let close: () => Promise<void>;
let lead: McxClient;

const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();
const alertsAtWmp = async () => ((await lead.request(ALERTS, {})) as { alerts: { nodes: Alert[] } }).alerts.nodes;

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GMP's OPEN episode for the child; resolves with its id once WMP has its cross-match alert. */
async function openAtGmp(): Promise<string> {
  const input = episodeInput({ subjectRef: 'GMP-SUBJ-1', status: 'OPEN', foundAt: null, foundPlace: null, foundBy: null });
  expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
  await until('the cross-match alert at WMP', 10_000, async () =>
    (await alertsAtWmp()).some((a) => a.kind === 'CROSS_MATCH' && a.episode.id === input.id) ? true : null,
  );
  return input.id!;
}

beforeAll(async () => {
  ({ nodes, close } = await startFederation(['GMP', 'WMP'] as const, { capabilities: PEER_OPERATIONS.map((op) => op.name) }));
  for (const [force, ref] of [
    ['GMP', 'GMP-SUBJ-1'],
    ['WMP', 'WMP-SUBJ-8'],
  ] as const) {
    const r = (await nodes[force].client.request(PUBLISH_SUBJECT, { input: { subjectRef: ref, reviewAt, identity } })) as {
      publishSubject: { errors: unknown[] };
    };
    expect(r.publishSubject.errors).toEqual([]);
  }
  lead = await nodes.WMP.as({ roles: ['investigator'], subject: 'wmp-missing-lead', headers: readHeaders('WMP') });
}, 180_000);

afterAll(() => close?.());

describe('watches', () => {
  let watch: Watch;

  it('a watch is set for the request’s purpose and case, listed, and renewed', async () => {
    watch = ((await lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(30) })) as { watchChild: Watch }).watchChild;
    expect(watch).toMatchObject({
      subjectRef: 'WMP-SUBJ-8',
      purpose: 'MISSING_LIVE_SEARCH',
      caseRef: readHeaders('WMP')['x-mcx-case-ref'],
      createdBy: 'wmp-missing-lead',
      cancelledAt: null,
    });
    expect(((await lead.request(WATCHES, {})) as { watches: Watch[] }).watches.map((w) => w.id)).toEqual([watch.id]);
    const renewed = ((await lead.request(RENEW, { id: watch.id, expiresAt: inDays(89) })) as { renewWatch: Watch }).renewWatch;
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(watch.expiresAt));
  });

  it('refuses an expiry past 90 days or in the past, and a subject this node does not hold, each by its code', async () => {
    await expect(lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(91) })).rejects.toThrow(
      /WATCH_EXPIRY_OUT_OF_RANGE|90 days/,
    );
    await expect(lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(-1) })).rejects.toThrow(
      /WATCH_EXPIRY_OUT_OF_RANGE|90 days/,
    );
    await expect(lead.request(RENEW, { id: watch.id, expiresAt: inDays(120) })).rejects.toThrow(/WATCH_EXPIRY_OUT_OF_RANGE|90 days/);
    await expect(lead.request(WATCH, { subjectRef: 'WMP-NOBODY', expiresAt: inDays(5) })).rejects.toThrow(
      /WATCH_SUBJECT_UNKNOWN|no linkage keys/,
    );
  });

  it('fires: an OPEN episode at GMP raises a WATCH alert at WMP naming the watch', async () => {
    const episodeId = await openAtGmp();
    const watched = await until('the WATCH alert', 5_000, async () => {
      const a = (await alertsAtWmp()).filter((x) => x.kind === 'WATCH');
      return a.length > 0 ? a : null;
    });
    expect(watched).toEqual([
      {
        kind: 'WATCH',
        fromNode: 'GMP',
        yourSubjectRefs: ['WMP-SUBJ-8'],
        episode: { id: episodeId },
        watch: { id: watch.id, purpose: 'MISSING_LIVE_SEARCH', caseRef: watch.caseRef },
      },
    ]);
  });

  it('does not fire after its expiry, nor once cancelled', async () => {
    const cancelled = ((await lead.request(CANCEL, { id: watch.id })) as { cancelWatch: Watch }).cancelWatch;
    expect(cancelled.cancelledAt).not.toBeNull();
    const short = (
      (await lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: new Date(Date.now() + 2_000).toISOString() })) as {
        watchChild: Watch;
      }
    ).watchChild;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(((await lead.request(WATCHES, {})) as { watches: Watch[] }).watches).toEqual([]);
    expect(((await lead.request(WATCHES, { ended: true })) as { watches: Watch[] }).watches.map((w) => w.id).sort()).toEqual(
      [watch.id, short.id].sort(),
    );
    await openAtGmp();
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await alertsAtWmp()).filter((a) => a.kind === 'WATCH')).toHaveLength(1);
    await expect(lead.request(RENEW, { id: short.id, expiresAt: inDays(10) })).rejects.toThrow(/WATCH_ENDED|ended/);
  });

  it('is audited: set and renewed as consultations with purpose and case (counted by the fishing alerts), cancelled as an alteration', async () => {
    const sql = postgres(nodes.WMP.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ op: string; action: string; purpose: string; case_ref: string; outcome: string }[]>`
        select entry->'query'->>'operation' as op, action, purpose, case_ref, outcome from audit_entries
        where entry->'query'->>'operation' in ('watchChild', 'renewWatch', 'cancelWatch') and outcome = 'success' order by seq`;
      expect(rows.map((r) => `${r.op}:${r.action}`)).toEqual([
        'watchChild:consultation',
        'renewWatch:consultation',
        'cancelWatch:alteration',
        'watchChild:consultation',
      ]);
      expect(rows.every((r) => r.purpose === 'MISSING_LIVE_SEARCH' && r.case_ref === watch.caseRef)).toBe(true);
      const refused = await sql<{ op: string; reason: string }[]>`
        select entry->'query'->>'operation' as op, entry->>'reason' as reason from audit_entries
        where entry->'query'->>'operation' in ('watchChild', 'renewWatch') and outcome = 'refused' order by seq`;
      expect(refused).toEqual([
        { op: 'watchChild', reason: 'WATCH_SUBJECT_UNKNOWN' },
        { op: 'renewWatch', reason: 'WATCH_ENDED' },
      ]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
