// The record locator pauses its polling while its node does not search (MCX_LOCATOR_IDLE_AFTER_MS):
// every poll is an audited exchange with every member, so a quiet node must not keep the whole
// federation answering it. Three real nodes on loopback; each pauses after 1.5 s without a search
// (filters live 1.5 s here).
// The pause is read at the owners, in their audit logs (no peerFilter request from WMP arrives),
// and the safety of the first search after it in the answer: stale filters, so every member is asked.
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PublishSubjectDocument } from '@mcx/client';

import { allEntries, auditorOf } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { eventually, LOCATOR_SEARCH, startLocatorFederation, type Answer } from '../testkit/locator.js';
import type { TestNode } from '../testkit/node.js';

const FORCES = ['WMP', 'GMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];
// At least a filter's life (MCX_LOCATOR_MAX_AGE_MS), as the node requires.
const IDLE_AFTER_MS = 1500;
const LOCATOR = {
  MCX_LOCATOR: 'on',
  MCX_LOCATOR_POLL_MS: '300',
  MCX_LOCATOR_MAX_AGE_MS: '1500',
  MCX_LOCATOR_REBUILD_MS: '200',
  MCX_LOCATOR_IDLE_AFTER_MS: String(IDLE_AFTER_MS),
};
const CHILD = { forename: 'Tamsin', surname: 'Okafor', dob: '2011-09-02', sex: 'FEMALE' as const, nhsNumber: '9990001561' };

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function search(): Promise<Answer> {
  const r = (await nodes.WMP.investigator.request(LOCATOR_SEARCH as never, { identity: CHILD } as never)) as { federatedEpisodes: Answer };
  return r.federatedEpisodes;
}
const statuses = (a: Answer) => Object.fromEntries(a.federation.members.map((m) => [m.member, m.status]));
/** The filter requests from WMP that `owner` has audited. */
const pollsFromWmp = async (owner: Force) =>
  (await allEntries(await auditorOf(nodes[owner]), { caseRef: 'LOCATOR/FILTERS', requestingNode: 'WMP' })).filter(
    (e) => e.operation === 'peerFilter',
  ).length;
const logged = (code: string) =>
  nodes.WMP.logs()
    .split('\n')
    .filter((l) => l.includes(`"code":"${code}"`)).length;

beforeAll(async () => {
  ({ nodes, close } = await startLocatorFederation(FORCES, LOCATOR, { MCX_PEER_TIMEOUT_MS: '2500', MCX_FEDERATION_DEADLINE_MS: '4000' }));
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  const { publishSubject } = await nodes.GMP.client.request(PublishSubjectDocument, {
    input: { subjectRef: 'SUBJ-GMP-TAMSIN', reviewAt, identity: CHILD },
  });
  expect(publishSubject.errors).toEqual([]);
  expect((await publishEpisode(nodes.GMP.client, episodeInput({ subjectRef: 'SUBJ-GMP-TAMSIN' }))).errors).toEqual([]);
}, 120_000);

afterAll(() => close?.());

describe('the record locator while its node does not search', () => {
  it('stops polling, asks every member at the next search, and skips members again once polling has resumed', async () => {
    // Searching: polling runs, and once the filters hold her, MPS (which holds nothing) is skipped.
    await eventually(search, (a) => statuses(a).MPS === 'NOT_HOLDING' && statuses(a).GMP === 'ANSWERED', 10_000);

    // No search for longer than IDLE_AFTER_MS: WMP asks nobody for filters.
    await sleep(IDLE_AFTER_MS + 1000);
    expect(logged('LOCATOR_POLLING_PAUSED')).toBeGreaterThanOrEqual(1);
    const before = { GMP: await pollsFromWmp('GMP'), MPS: await pollsFromWmp('MPS') };
    await sleep(2000); // more than six polls' time
    expect({ GMP: await pollsFromWmp('GMP'), MPS: await pollsFromWmp('MPS') }).toEqual(before);

    // The filters are now older than MCX_LOCATOR_MAX_AGE_MS: the next search asks every member, as without a locator.
    const first = await search();
    expect(statuses(first)).toEqual({ WMP: 'ANSWERED', GMP: 'ANSWERED', MPS: 'ANSWERED' });
    expect(first.federation.completeness).toBe('COMPLETE');
    expect(first.strong.map((e) => e.episode.owner)).toEqual(['GMP']);

    // And polling has started again: within a poll or two, MPS is skipped once more, and the owners saw new requests.
    await eventually(search, (a) => statuses(a).MPS === 'NOT_HOLDING', 5000);
    expect(logged('LOCATOR_POLLING_RESUMED')).toBeGreaterThanOrEqual(1);
    expect(await pollsFromWmp('MPS')).toBeGreaterThan(before.MPS);
    expect(await pollsFromWmp('GMP')).toBeGreaterThan(before.GMP);
  });

  it("leaves the polls out of the fishing alerts: node-to-node filter traffic, no person's reads", async () => {
    const polls = async (force: 'WMP' | 'MPS') =>
      (await allEntries(await auditorOf(nodes[force]))).filter((e) => e.operation === 'locatorRefresh' || e.operation === 'peerFilter')
        .length;
    // More than 10 polls at each, as asserted below: WMP polls while it searches, so it searches until there are (a slow
    // machine may have left fewer after the first test).
    for (const force of ['WMP', 'MPS'] as const)
      await eventually(
        async () => (await search(), polls(force)),
        (n) => n > 10,
        20_000,
      );
    for (const force of ['WMP', 'MPS'] as const) {
      const auditor = await auditorOf(nodes[force]);
      const operationAt = new Map((await allEntries(auditor)).map((e) => [e.seq, e.operation]));
      expect([...operationAt.values()].filter((op) => op === 'locatorRefresh' || op === 'peerFilter').length).toBeGreaterThan(10);
      const { auditAlerts } = (await auditor.request(
        AUDIT_ALERTS_WITH_SAMPLES as never,
        { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), t: 0 } as never,
      )) as { auditAlerts: { kind: string; actorSubject: string; sampleSeqs: number[] }[] };
      const sampled = auditAlerts.flatMap((a) => a.sampleSeqs.map((seq) => `${a.kind}/${a.actorSubject}/${operationAt.get(seq)}`));
      expect(sampled.filter((s) => /\/(locatorRefresh|peerFilter)$/.test(s))).toEqual([]);
      // Nor in the reads by hour: the heatmap counts the reads that are not polls (reading it is audited too, hence the bounds).
      const readsNow = async () =>
        (await allEntries(auditor)).filter(
          (e) => ['CONSULTATION', 'DISCLOSURE'].includes(e.action) && !['locatorRefresh', 'peerFilter'].includes(e.operation),
        ).length;
      const before = await readsNow();
      const { auditReadsByHour } = (await auditor.request(
        READS_BY_HOUR as never,
        { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } as never,
      )) as { auditReadsByHour: { count: number }[] };
      const counted = auditReadsByHour.reduce((n, c) => n + c.count, 0);
      expect(counted).toBeGreaterThanOrEqual(before);
      expect(counted).toBeLessThanOrEqual(await readsNow());
    }
    // WMP's investigator's searches still count (volume over a threshold of 0).
    const { auditAlerts } = (await (
      await auditorOf(nodes.WMP)
    ).request(
      AUDIT_ALERTS_WITH_SAMPLES as never,
      { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), t: 0 } as never,
    )) as { auditAlerts: { kind: string; actorSubject: string }[] };
    expect(auditAlerts.some((a) => a.kind === 'unusual_volume' && a.actorSubject === 'test-investigator')).toBe(true);
  });
});

const READS_BY_HOUR = gql`
  query ReadsByHour($from: DateTime!, $to: DateTime!) {
    auditReadsByHour(from: $from, to: $to) {
      weekday
      hour
      count
    }
  }
`;

const AUDIT_ALERTS_WITH_SAMPLES = gql`
  query AlertsWithSamples($from: DateTime!, $to: DateTime!, $t: Int) {
    auditAlerts(from: $from, to: $to, perActorThreshold: $t) {
      kind
      actorSubject
      sampleSeqs
    }
  }
`;
