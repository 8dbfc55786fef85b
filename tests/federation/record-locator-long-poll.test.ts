// The record locator's long poll (mcx.filter/2 `waitMs`): a caller holding a member's current
// filter asks it to hold the answer until the filter changes, so a change reaches the caller as
// soon as the owner has rebuilt, and an unchanged filter costs one exchange per hold instead of one
// per MCX_LOCATOR_POLL_MS. Real nodes on loopback: WMP, GMP and MPS run the locator (polls every
// 300 ms at most, filters live 9 s, so a hold is 3 s); BTP serves its filter but polls nobody, so
// its requests below are the only ones it makes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PublishSubjectDocument } from '@mcx/client';
import { PEER_FILTER, PEER_OPERATIONS, PEER_PATH, peerAudience } from '@mcx/federation';
import { signNodeToken } from '@mcx/signing';

import { allEntries, auditorOf } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { eventually, filterClaims, LOCATOR_SEARCH, type Answer } from '../testkit/locator.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

const FORCES = ['WMP', 'GMP', 'MPS', 'BTP'] as const;
type Force = (typeof FORCES)[number];
const LOCATOR = { MCX_LOCATOR_POLL_MS: '300', MCX_LOCATOR_MAX_AGE_MS: '9000', MCX_LOCATOR_REBUILD_MS: '200' };
const HOLD_MS = 3000; // a third of a filter's life (filter-refresher.ts waitMsFor)
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let closeFederation: () => Promise<void>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Held by nobody.
const NOBODY = { forename: 'Wren', surname: 'Castellane', dob: '2012-11-20', sex: 'FEMALE' as const };

async function search(identity: Record<string, unknown>): Promise<Answer> {
  const r = (await nodes.WMP.investigator.request(LOCATOR_SEARCH as never, { identity } as never)) as { federatedEpisodes: Answer };
  return r.federatedEpisodes;
}
const row = (a: Answer, member: Force) => a.federation.members.find((m) => m.member === member)!;
const statusOf = (a: Answer, member: Force = 'GMP') => row(a, member).status;

/** The mcx.filter/2 requests from `from` that `owner` has audited (answered or refused). */
const pollsFrom = async (owner: Force, from: Force) =>
  (await allEntries(await auditorOf(nodes[owner]), { caseRef: 'LOCATOR/FILTERS', requestingNode: from })).filter(
    (e) => e.operation === 'peerFilter',
  );

/** POSTs mcx.filter/2 from BTP to `to` with these variables and a fresh node token: status, refusal, answer and how long it took. */
async function askAsBtp(to: Force, variables: { known: number | null; waitMs?: number | null }) {
  const token = signNodeToken(
    { iss: 'BTP', aud: peerAudience(to), ttlSec: 30, claims: filterClaims('node:BTP', 'BTP', variables as { known: number | null }) },
    fed.keys.BTP!.peerToken,
  );
  const t0 = performance.now();
  const res = await fetch(new URL(PEER_PATH, nodes[to].node.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: PEER_FILTER.hash, variables }),
  });
  const body = (await res.json()) as { data?: { peerFilter: { version: number; notModified: boolean; bits: string | null } } };
  return { status: res.status, refusal: res.headers.get('x-mcx-refusal'), answer: body.data?.peerFilter, ms: performance.now() - t0 };
}

beforeAll(async () => {
  const saved = { ...process.env };
  Object.assign(process.env, LOCATOR, { MCX_LOCATOR: 'on' });
  try {
    const started = await startFederation(FORCES, { start: ['WMP', 'GMP', 'MPS'], capabilities: PEER_OPERATIONS.map((op) => op.name) });
    fed = started.fed;
    // BTP serves its filter and asks nobody for theirs (the settings are read when its services are built).
    process.env.MCX_LOCATOR = 'serve';
    const btp = await startTestNode({
      force: 'BTP',
      keys: fed.keys.BTP!,
      env: { ...fed.nodeEnv('BTP'), PORT: new URL(fed.manifest.members.find((m) => m.code === 'BTP')!.endpoint).port },
    });
    nodes = { ...started.nodes, BTP: btp } as Record<Force, TestNode>;
    closeFederation = async () => {
      await btp.close();
      await started.close();
    };
  } finally {
    process.env = saved;
  }
  // WMP holds every member's filter before the tests begin: a child nobody holds is asked of nobody.
  await eventually(
    () => search(NOBODY),
    (a) => a.federation.members.every((m) => m.status === 'NOT_HOLDING'),
    10_000,
  );
}, 120_000);

afterAll(() => closeFederation?.());

describe('the record locator polls long', () => {
  it('a new subject reaches the callers as soon as its owner has rebuilt, not a hold later', async () => {
    const publisher = nodes.GMP.node.app.services.locatorFilter!;
    for (const n of [1, 2]) {
      const before = publisher.published!.version;
      // WMP's poll is held at GMP: its filter has not changed since WMP last asked.
      await sleep(HOLD_MS / 2);
      // Two children with nothing in common. (Whether GMP is asked for one before it is published is not checked: a
      // Bloom filter may say "maybe", and asking is then right.)
      const identity = [
        { forename: 'Orla', surname: 'Penhale', dob: '2010-03-01', sex: 'FEMALE' as const },
        { forename: 'Kasimir', surname: 'Dunstable', dob: '2008-11-23', sex: 'MALE' as const },
      ][n - 1]!;
      const { publishSubject } = await nodes.GMP.client.request(PublishSubjectDocument, {
        input: { subjectRef: `SUBJ-GMP-LP-${n}`, reviewAt, identity },
      });
      expect(publishSubject.errors).toEqual([]);
      expect((await publishEpisode(nodes.GMP.client, episodeInput({ subjectRef: `SUBJ-GMP-LP-${n}` }))).errors).toEqual([]);
      await eventually(
        async () => publisher.published!.version,
        (v) => v > before,
        5000,
      );
      // Well within the 3 s hold: the held poll was answered with the new filter as soon as it was built.
      const found = await eventually(
        () => search(identity),
        (a) => statusOf(a) === 'ANSWERED' && a.strong.some((e) => e.episode.owner === 'GMP'),
        5000,
      );
      expect(found.ms).toBeLessThan(HOLD_MS / 2);
    }
  });

  it('an unchanged filter costs one exchange per hold, not one per poll interval, and stays fresh', async () => {
    const since = (await pollsFrom('MPS', 'WMP')).length;
    await sleep(2 * HOLD_MS + 500);
    const polls = (await pollsFrom('MPS', 'WMP')).slice(since);
    // At 300 ms a poll, 6.5 s would be about 21 exchanges; held 3 s each, it is 2 or 3.
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls.length).toBeLessThanOrEqual(4);
    expect(polls.every((e) => e.outcome === 'SUCCESS' && e.reason === 'NOT_MODIFIED')).toBe(true);
    // Confirmed by every hold's answer: never older than a hold and a little.
    const mps = row(await search(NOBODY), 'MPS');
    expect(mps.status).toBe('NOT_HOLDING');
    expect(mps.filterAgeMs).toBeLessThan(HOLD_MS + 1500);
  });

  it('an owner holds a member one poll at a time, at most what it was asked, answers a change at once, and audits when it answers', async () => {
    const version = (await askAsBtp('MPS', { known: null, waitMs: null })).answer!.version;
    const held = askAsBtp('MPS', { known: version, waitMs: 1500 });
    await sleep(200);
    // The same member again while its first poll is held: answered at once, not held.
    const second = await askAsBtp('MPS', { known: version, waitMs: 1500 });
    expect([second.status, second.answer?.notModified]).toEqual([200, true]);
    expect(second.ms).toBeLessThan(1000);
    const first = await held;
    expect([first.status, first.answer]).toEqual([200, expect.objectContaining({ version, notModified: true, bits: null })]);
    expect(first.ms).toBeGreaterThanOrEqual(1400);
    expect(first.ms).toBeLessThan(1500 + 1000);
    // An old version is answered at once, with the filter.
    const old = await askAsBtp('GMP', { known: 1, waitMs: 1500 });
    expect(old.status).toBe(200);
    expect(old.answer!.notModified).toBe(false);
    expect(old.ms).toBeLessThan(1000);
    // Each request is one disclosure at the owner, written when it was answered.
    const entries = await pollsFrom('MPS', 'BTP');
    expect(entries.map((e) => e.reason)).toEqual([null, 'NOT_MODIFIED', 'NOT_MODIFIED']);
  });

  it('refuses a wait out of bounds, before holding anything', async () => {
    const version = nodes.MPS.node.app.services.locatorFilter!.published!.version;
    for (const waitMs of [-1, 30_001]) {
      const r = await askAsBtp('MPS', { known: version, waitMs });
      expect([r.status, r.refusal]).toEqual([400, 'INVALID_WAIT']);
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('a node closing answers the polls it holds at once instead of waiting out their holds', async () => {
    const version = nodes.MPS.node.app.services.locatorFilter!.published!.version;
    // A poll held for 10 s (WMP's and GMP's own are held there too).
    const held = askAsBtp('MPS', { known: version, waitMs: 10_000 });
    await sleep(300);
    const t0 = performance.now();
    await nodes.MPS.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    const answered = await held;
    expect([answered.status, answered.answer?.notModified]).toEqual([200, true]);
    expect(answered.ms).toBeLessThan(2500);
  });
});
