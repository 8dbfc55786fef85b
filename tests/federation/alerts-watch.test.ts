/**
 * Watches on real nodes with the real linkage service: WMP's investigator watches a child WMP
 * holds; GMP's OPEN episode for the child raises a WATCH alert naming the watch; a watch past its
 * expiry raises nothing. Watches are listed, renewed, cancelled, bounded to 90 days and audited
 * as consultations with their purpose and case reference (what the fishing alerts count). A
 * watch is its creator's: another user neither lists, renews nor cancels it (WATCH_NOT_YOURS), an
 * auditor lists every user's, and its WATCH alerts are the watcher's alone; every acknowledgement
 * is recorded with who and when, stored as the token's issuer and subject; no reader but an
 * auditor is shown another person's subject ("you", "a colleague at WMP"). A token of another
 * issuer with the same subject: alerts-owner.test.ts.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';
import type { McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { openInput, ownerSql, publishEpisode, publishSubject, syntheticChild, until } from '../testkit/alerts.js';
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
  query L($ended: Boolean, $all: Boolean) {
    watches(ended: $ended, all: $all) {
      id
      cancelledAt
    }
  }
`;
const WATCHES_BY = gql`
  query LB($ended: Boolean, $all: Boolean) {
    watches(ended: $ended, all: $all) {
      id
      createdBy
      cancelledAt
    }
  }
`;
const ALERTS = gql`
  query A {
    alerts(first: 200) {
      nodes {
        id
        forUser
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
type Alert = {
  id: string;
  forUser: string | null;
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

const { identity } = syntheticChild(454545, 0);
const DAY = 86_400_000;

let nodes: Record<'GMP' | 'WMP', TestNode>;
let close: () => Promise<void>;
let lead: McxClient;

const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();
const alertsAtWmp = async () => ((await lead.request(ALERTS, {})) as { alerts: { nodes: Alert[] } }).alerts.nodes;

/** GMP's OPEN episode for the child; resolves with its id once WMP has its cross-match alert. */
async function openAtGmp(): Promise<string> {
  const input = openInput('GMP-SUBJ-1');
  expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
  await until('the cross-match alert at WMP', 10_000, async () =>
    (await alertsAtWmp()).some((a) => a.kind === 'CROSS_MATCH' && a.episode.id === input.id) ? true : null,
  );
  return input.id!;
}

beforeAll(async () => {
  ({ nodes, close } = await startFederation(['GMP', 'WMP'] as const, { capabilities: PEER_OPERATIONS.map((op) => op.name) }));
  await publishSubject(nodes.GMP, 'GMP-SUBJ-1', identity);
  await publishSubject(nodes.WMP, 'WMP-SUBJ-8', identity);
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
      // Its creator is named to themselves as "you", never by their subject id.
      createdBy: 'you',
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
        id: expect.any(String),
        // The watcher's own ("you" to the watcher).
        forUser: 'you',
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
    await ownerSql(nodes.WMP, async (sql) => {
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
    });
  });
});

const ACK = gql`
  mutation Ack($id: ID!) {
    acknowledgeAlert(id: $id) {
      id
      acknowledgedBy
      acknowledgements {
        by
        at
      }
    }
  }
`;

describe('a watch is its creator’s', () => {
  let mine: Watch;
  let other: McxClient;

  beforeAll(async () => {
    other = await nodes.WMP.as({ roles: ['investigator'], subject: 'wmp-other-officer', headers: readHeaders('WMP') });
    mine = ((await lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(30) })) as { watchChild: Watch }).watchChild;
  });

  it('another user neither lists, renews nor cancels it (WATCH_NOT_YOURS); the watch runs on', async () => {
    expect(((await other.request(WATCHES, {})) as { watches: Watch[] }).watches).toEqual([]);
    expect(((await other.request(WATCHES, { ended: true })) as { watches: Watch[] }).watches).toEqual([]);
    await expect(other.request(CANCEL, { id: mine.id })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    await expect(other.request(RENEW, { id: mine.id, expiresAt: inDays(60) })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    const running = ((await lead.request(WATCHES, {})) as { watches: Watch[] }).watches;
    expect(running).toEqual([{ id: mine.id, cancelledAt: null }]);
    const refused = await ownerSql(
      nodes.WMP,
      (sql) => sql<{ op: string; action: string; reason: string }[]>`
        select entry->'query'->>'operation' as op, action, entry->>'reason' as reason from audit_entries
        where outcome = 'refused' and entry->>'reason' = 'WATCH_NOT_YOURS' order by seq`,
    );
    expect(refused).toEqual([
      { op: 'cancelWatch', action: 'alteration', reason: 'WATCH_NOT_YOURS' },
      { op: 'renewWatch', action: 'consultation', reason: 'WATCH_NOT_YOURS' },
    ]);
  });

  it('an auditor lists every user’s, read only; anyone else asking for all is refused (WATCH_LIST_NOT_PERMITTED)', async () => {
    const auditor = await nodes.WMP.as({ roles: ['investigator', 'auditor'], subject: 'wmp-auditor', headers: readHeaders('WMP') });
    const all = ((await auditor.request(WATCHES, { all: true })) as { watches: Watch[] }).watches;
    expect(all.map((w) => w.id)).toEqual([mine.id]);
    // An auditor sees who exactly: the issuer and the subject.
    const everyone = ((await auditor.request(WATCHES_BY, { all: true })) as { watches: Watch[] }).watches;
    expect(everyone.map((w) => w.createdBy)).toEqual(['mcx-dev-issuer wmp-missing-lead']);
    await expect(auditor.request(CANCEL, { id: mine.id })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    await expect(other.request(WATCHES, { all: true })).rejects.toThrow(/WATCH_LIST_NOT_PERMITTED|for auditors/);
    // An auditor of another force, signed in here as an investigator too, audits their own node, not this one.
    const elsewhere = await nodes.WMP.as({
      roles: ['investigator', 'auditor'],
      force: 'GMP',
      subject: 'gmp-auditor',
      audience: devAudience('WMP'),
      headers: readHeaders('GMP'),
    });
    await expect(elsewhere.request(WATCHES, { all: true })).rejects.toThrow(/WATCH_LIST_NOT_PERMITTED|for auditors/);
  });

  it('its WATCH alert is the watcher’s alone; each acknowledgement is recorded with who and when', async () => {
    const episodeId = await openAtGmp();
    const theirs = await until('the WATCH alert', 5_000, async () => {
      const a = (await alertsAtWmp()).filter((x) => x.kind === 'WATCH' && x.episode.id === episodeId);
      return a.length > 0 ? a : null;
    });
    // One for the cross-match and, GMP's third open episode of the child reaching the threshold, one for that: each the watcher's.
    for (const a of theirs) expect(a).toMatchObject({ forUser: 'you', watch: { id: mine.id } });
    const seenByOther = ((await other.request(ALERTS, {})) as { alerts: { nodes: Alert[] } }).alerts.nodes;
    expect(seenByOther.filter((a) => a.kind === 'WATCH')).toEqual([]);
    const crossMatch = seenByOther.find((a) => a.kind === 'CROSS_MATCH' && a.episode.id === episodeId)!;
    expect(crossMatch.forUser).toBeNull();
    await expect(other.request(ACK, { id: theirs[0]!.id })).rejects.toThrow(/ALERT_NOT_FOUND|no alert/);
    type Acked = { acknowledgeAlert: { acknowledgedBy: string; acknowledgements: { by: string; at: string }[] } };
    const own = ((await lead.request(ACK, { id: theirs[0]!.id })) as Acked).acknowledgeAlert;
    expect(own.acknowledgements).toEqual([{ by: 'you', at: expect.any(String) }]);
    // The node's alert: both readers' acknowledgements are kept, the first named as acknowledgedBy;
    // to the lead, the other officer (the same issuer) is a colleague at WMP, not a subject id.
    await other.request(ACK, { id: crossMatch.id });
    const both = ((await lead.request(ACK, { id: crossMatch.id })) as Acked).acknowledgeAlert;
    expect(both.acknowledgedBy).toBe('a colleague at WMP');
    expect(both.acknowledgements.map((a) => a.by)).toEqual(['a colleague at WMP', 'you']);
    expect(Date.parse(both.acknowledgements[0]!.at)).toBeLessThanOrEqual(Date.parse(both.acknowledgements[1]!.at));
    // Who is stored: issuer and subject, first acknowledger first.
    const stored = await ownerSql(
      nodes.WMP,
      (sql) => sql<{ by: string }[]>`select acknowledged_by as by from alert_acknowledgements where alert_id = ${crossMatch.id}
                                     order by acknowledged_at, acknowledged_by`,
    );
    expect(stored.map((r) => r.by)).toEqual(['mcx-dev-issuer wmp-other-officer', 'mcx-dev-issuer wmp-missing-lead']);
  });
});
