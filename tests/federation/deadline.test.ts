/**
 * One deadline per federated query: childHistory's reads (the child's episodes; then, at once,
 * the locations of concern near where the child was found and the pointers asked of associates'
 * owners) share the one MCX_FEDERATION_DEADLINE_MS, counted from the start of the query. Three
 * real nodes on loopback: WMP asks, GMP is honest, WYP can be made to answer late or never.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { ChildHistoryDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { createFederation, freePort, memberRow, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate, publishLocation } from '../testkit/records.js';

const FORCES = ['WMP', 'GMP', 'WYP'] as const;
type Force = (typeof FORCES)[number];
const CHILD = { forename: 'Imogen', surname: 'Thackeray', dob: '2010-11-23', sex: 'FEMALE' as const, nhsNumber: '9990001448' };
const PEER_TIMEOUT_MS = 1000;
const DEADLINE_MS = 1500;
/** What the node may spend after the deadline: storing receipts, auditing the combination, shaping the answer. */
const AFTER_DEADLINE_MS = 100;

let fed: TestFederation;
const nodes = {} as Record<Force, TestNode>;
const ids = {} as Record<string, string>;

/** How WYP answers each peer operation (by its field): at once, after some ms, or never (until released). */
let wypAnswers: Record<string, number | 'never'> = {};
const stalled: (() => void)[] = [];

function wypFault(answer: { data: unknown; receipt: string }): Promise<unknown> {
  const field = Object.keys((answer.data ?? {}) as Record<string, unknown>)[0] ?? '';
  const delay = wypAnswers[field];
  if (delay === undefined) return Promise.resolve(answer);
  return new Promise((resolve) => {
    if (delay === 'never') stalled.push(() => resolve(answer));
    else setTimeout(() => resolve(answer), delay);
  });
}

async function history(client: McxClient = nodes.WMP.investigator) {
  const started = performance.now();
  const { childHistory } = await client.request(ChildHistoryDocument, { identity: CHILD });
  return { h: childHistory, elapsedMs: performance.now() - started };
}

/**
 * How long the node itself took over the query: from its first consultation entry to its last
 * combination entry (the node's own clock). The client's own time around it (token, HTTP, JSON)
 * is scheduler noise on a shared machine; the node's time is what the deadline bounds.
 */
async function nodeSideMs(before: number): Promise<number> {
  const auditor = await nodes.WMP.as({ roles: ['auditor'] });
  const entries = (await allEntries(auditor)).slice(before).filter((e) => e.operation === 'childHistory');
  const times = entries.map((e) => Date.parse(e.at));
  return Math.max(...times) - Math.min(...times);
}

async function entryCount(): Promise<number> {
  return (await allEntries(await nodes.WMP.as({ roles: ['auditor'] }))).length;
}

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(FORCES.map(async (f) => [f, await freePort()] as const))) as Record<Force, number>;
  fed = await createFederation([...FORCES], {
    endpoints: Object.fromEntries(FORCES.map((f) => [f, `http://127.0.0.1:${ports[f]}`])),
    capabilities: PEER_OPERATIONS.map((op) => op.name),
  });
  // The breaker is kept out of the way: these tests are about time, not about a member's health.
  const env = {
    MCX_PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS),
    MCX_FEDERATION_DEADLINE_MS: String(DEADLINE_MS),
    MCX_PEER_BREAKER_FAILURES: '1000',
  };
  await Promise.all(
    FORCES.map(async (force) => {
      nodes[force] = await startTestNode({
        force,
        keys: fed.keys[force]!,
        env: { ...fed.nodeEnv(force), ...env, PORT: String(ports[force]) },
        ...(force === 'WYP' ? { peerAnswerFault: wypFault } : {}),
      });
    }),
  );
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  for (const force of FORCES) {
    const { publishSubject: r } = await nodes[force].client.request(PublishSubjectDocument, {
      input: { subjectRef: `SUBJ-${force}-1`, reviewAt, identity: CHILD },
    });
    expect(r.errors).toEqual([]);
  }
  // An associate held by WYP that only GMP's episode names: WYP's own answer does not carry its
  // pointer, so childHistory asks WYP for it in its second round.
  const { associate } = await publishAssociate(nodes.WYP.client, associateInput({ ownerReference: 'ASC-WYP-5' }));
  ids.wypAssociate = associate!.id;
  for (const force of FORCES) {
    const over =
      force === 'GMP'
        ? {
            associates: [
              { owner: 'WYP', associateId: ids.wypAssociate, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const },
            ],
          }
        : {};
    const { episode, errors } = await publishEpisode(nodes[force].client, episodeInput({ subjectRef: `SUBJ-${force}-1`, ...over }));
    expect(errors).toEqual([]);
    ids[force] = episode!.id;
  }
  // A location of concern at GMP about 200 m from where the child was found (episodeInput's found place).
  const { locationOfConcern, errors } = await publishLocation(
    nodes.GMP.client,
    locationInput({ ownerReference: 'LOC-GMP-1', location: { postcode: 'B1 1BB', lat: 52.48, lon: -1.9 } }),
  );
  expect(errors).toEqual([]);
  ids.gmpLocation = locationOfConcern!.id;
  // Warm every path once, and check the scenario: with every member prompt the history is complete.
  const { h } = await history();
  expect(h.federation.completeness).toBe('COMPLETE');
  expect(h.locationsOfConcern.map((l) => l.location.id)).toEqual([ids.gmpLocation]);
  expect(h.associates.map((a) => a.pointer.id)).toEqual([ids.wypAssociate]);
}, 120_000);

afterEach(() => {
  wypAnswers = {};
  for (const release of stalled.splice(0)) release();
});

afterAll(async () => {
  for (const release of stalled.splice(0)) release();
  await Promise.all(FORCES.map((f) => nodes[f]?.close().catch(() => undefined)));
  await fed?.close();
});

describe('one deadline per federated query', () => {
  it('childHistory with a member that never answers returns within the deadline: that member TIMED_OUT, the others ANSWERED, PARTIAL; each read still audited', async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const before = (await allEntries(auditor)).length;
    wypAnswers = { peerHistory: 'never', peerLocations: 'never', peerAssociatePointers: 'never' };
    const { h, elapsedMs } = await history();
    expect(await nodeSideMs(before)).toBeLessThan(DEADLINE_MS + AFTER_DEADLINE_MS);
    // The caller's own view, with its HTTP and scheduling around it (the old code took 2.2-2.4 s).
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 500);
    expect(memberRow(h, 'WYP')).toMatchObject({ status: 'TIMED_OUT', reason: expect.stringMatching(/^(TIMEOUT|DEADLINE)$/) });
    expect(memberRow(h, 'WMP').status).toBe('ANSWERED');
    expect(memberRow(h, 'GMP').status).toBe('ANSWERED');
    expect(h.federation.completeness).toBe('PARTIAL');
    // The second round still went out, in the time that was left: GMP's location is there.
    expect(h.incidents.flatMap((i) => i.sources.map((s) => s.owner)).sort()).toEqual(['GMP', 'WMP']);
    expect(h.locationsOfConcern.map((l) => l.location.id)).toEqual([ids.gmpLocation]);
    expect(h.associates).toEqual([]);

    // Three reads (the episodes; then the locations and the pointers, together), each audited
    // here: its consultation before any member was asked, its combination before release,
    // naming the member that was cut.
    const entries = (await allEntries(auditor)).slice(before).filter((e) => e.operation === 'childHistory');
    const consultations = entries.filter((e) => e.action === 'CONSULTATION');
    const combinations = entries.filter((e) => e.action === 'COMBINATION');
    expect(entries).toHaveLength(6);
    expect(entries[0]).toMatchObject({ action: 'CONSULTATION', reason: null });
    expect(consultations.map((c) => c.reason ?? 'EPISODES').sort()).toEqual(['ASSOCIATE_POINTERS', 'EPISODES', 'LOCATIONS_NEAR']);
    expect(combinations.map((c) => c.reason)).toEqual(['PARTIAL', 'PARTIAL', 'PARTIAL']);
    expect(combinations.map((c) => c.queryRecordIds.filter((q) => q.startsWith('WYP:')))).toEqual([
      ['WYP:TIMED_OUT'],
      ['WYP:TIMED_OUT'],
      ['WYP:TIMED_OUT'],
    ]);
    // The second round was consulted only once the first was combined.
    expect(consultations.filter((c) => c.reason !== null).every((c) => c.seq > combinations[0]!.seq)).toBe(true);
  });

  it('a member that answers the first read late is cut in the second at what is left of the deadline (DEADLINE), not at a fresh one', async () => {
    wypAnswers = { peerHistory: 700, peerLocations: 'never', peerAssociatePointers: 'never' };
    const before = await entryCount();
    const { h, elapsedMs } = await history();
    expect(await nodeSideMs(before)).toBeLessThan(DEADLINE_MS + AFTER_DEADLINE_MS);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 500);
    // Its episodes arrived in time; its answers to the second round did not, cut by the query's deadline.
    expect(h.incidents.flatMap((i) => i.sources.map((s) => s.owner)).sort()).toEqual(['GMP', 'WMP', 'WYP']);
    expect(memberRow(h, 'WYP')).toMatchObject({ status: 'TIMED_OUT', reason: 'DEADLINE' });
    expect(memberRow(h, 'WMP').status).toBe('ANSWERED');
    expect(memberRow(h, 'GMP').status).toBe('ANSWERED');
    expect(h.federation.completeness).toBe('PARTIAL');
    expect(h.locationsOfConcern.map((l) => l.location.id)).toEqual([ids.gmpLocation]);
  });
});
