/**
 * An associate's cross-force link counts, kept by its owner in the background: three real nodes
 * on loopback. LANCS holds an adult of concern and a child found with them; GMP and LALANC are
 * members. The owner recounts every MCX_LINK_COUNTS_REFRESH_SECONDS (short here), a history reads
 * the stored counts with their age and asks nobody for them, and a member that is down keeps its
 * old count, with its old time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChildHistoryDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { peerFaults, startFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';

const MEMBERS = ['LANCS', 'GMP', 'LALANC'] as const;
type Member = (typeof MEMBERS)[number];
const REFRESH_SECONDS = 2;
const CHILD = { forename: 'Tamsin', surname: 'Oakenfold', dob: '2010-06-21', sex: 'FEMALE' as const, nhsNumber: '9990001405' };
const OTHER_CHILD = { forename: 'Ambrose', surname: 'Pilkington', dob: '2009-01-30', sex: 'MALE' as const };
const ADULT = { forename: 'Cedric', surname: 'Fothergill', phone: '+447700900451' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let nodes: Record<Member, TestNode>;
let close: () => Promise<void>;
const faults = peerFaults();
let adult = '';
let investigator: McxClient;

async function publishSubject(client: McxClient, subjectRef: string, identity: Record<string, unknown>) {
  const { publishSubject: r } = await client.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity } });
  expect(r.errors).toEqual([]);
}

/** The adult of concern as GMP's investigator's history of the child shows it. */
async function adultInHistory() {
  const { childHistory: h } = await investigator.request(ChildHistoryDocument, { identity: CHILD });
  return { history: h, adult: h.associates.find((a) => a.pointer.owner === 'LANCS' && a.pointer.id === adult) };
}

/** Every mcx.associateLinks/1 disclosure each member has logged. */
async function linkDisclosures() {
  const out = [];
  for (const m of MEMBERS) {
    const auditor = await nodes[m].as({ roles: ['auditor'] });
    out.push(...(await allEntries(auditor)).filter((e) => e.operation === 'peerAssociateLinks').map((e) => ({ member: m, ...e })));
  }
  return out;
}

const stored = (id: string) => nodes.LANCS.node.app.services.linkCounts.counts([id]).then((c) => c[0]!);

beforeAll(async () => {
  ({ nodes, close } = await startFederation(MEMBERS, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    kinds: { LALANC: 'local_authority' },
    // Patient peers: what is tested here is the counts, not a member's timeout on a busy machine.
    env: {
      MCX_LINK_COUNTS_REFRESH_SECONDS: String(REFRESH_SECONDS),
      MCX_LINK_COUNTS_RETRY_SECONDS: '1',
      MCX_PEER_TIMEOUT_MS: '4000',
      MCX_FEDERATION_DEADLINE_MS: '5000',
    },
    node: (m) => ({ peerAnswerFault: faults.hook(m) }),
  }));
  // LANCS: the child, found with an adult it holds.
  await publishSubject(nodes.LANCS.client, 'SUBJ-LAN-1', CHILD);
  const held = await publishAssociate(nodes.LANCS.client, associateInput({ ownerReference: 'LAN-ASC-1', identity: ADULT }));
  expect(held.errors).toEqual([]);
  adult = held.associate!.id;
  const found = await publishEpisode(
    nodes.LANCS.client,
    episodeInput({
      subjectRef: 'SUBJ-LAN-1',
      associates: [{ owner: 'LANCS', associateId: adult, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(found.errors).toEqual([]);
  investigator = await nodes.GMP.as({ roles: ['investigator'], headers: readHeaders('GMP') });
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe('the owner keeps its associates link counts fresh in the background', () => {
  it('a new associate and episode at another member reach the owner within the refresh interval, and the history says how old the counts are', async () => {
    // Told that something changed, the owner counts now: every member answers, and only this child is linked.
    const first = await nodes.LANCS.node.app.services.linkCounts.changed();
    expect(first).toEqual({ counted: 1, missing: [] });
    const before = await adultInHistory();
    expect(before.history.federation.completeness).toBe('COMPLETE');
    expect(before.adult).toMatchObject({ otherChildrenLinked: 0, forcesLinked: [], linksComplete: true });
    const firstAsOf = Date.parse(before.adult!.linkCountsAsOf!);
    expect(Date.now() - firstAsOf).toBeLessThan(30_000);

    // GMP publishes its own record of the same adult (the same linkage keys) and another child found with them.
    await publishSubject(nodes.GMP.client, 'SUBJ-GMP-7', OTHER_CHILD);
    const theirs = await publishAssociate(nodes.GMP.client, associateInput({ ownerReference: 'GMP-ASC-7', identity: ADULT }));
    expect(theirs.errors).toEqual([]);
    const published = Date.now();
    const episode = await publishEpisode(
      nodes.GMP.client,
      episodeInput({
        subjectRef: 'SUBJ-GMP-7',
        associates: [{ owner: 'GMP', associateId: theirs.associate!.id, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
      }),
    );
    expect(episode.errors).toEqual([]);
    const linkedAt = Date.now();

    // Nobody tells LANCS: its periodic recount learns of it within the interval (and a quarter, its tick).
    const limit = REFRESH_SECONDS * 1250 + 3000;
    let gmp: { children: number; asOf: string } | undefined;
    while (Date.now() - linkedAt < limit) {
      gmp = (await stored(adult)).byForce.find((f) => f.force === 'GMP');
      if (gmp?.children === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(gmp?.children, `GMP's count reached LANCS within ${limit} ms`).toBe(1);
    expect(Date.parse(gmp!.asOf)).toBeGreaterThanOrEqual(published);

    const after = await adultInHistory();
    expect(after.adult).toMatchObject({ otherChildrenLinked: 1, forcesLinked: ['GMP'], linksComplete: true });
    // The age is the oldest of the counts, from after the other child was linked.
    expect(Date.parse(after.adult!.linkCountsAsOf!)).toBeGreaterThan(firstAsOf);
    expect(Date.parse(after.adult!.linkCountsAsOf!)).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(after.history)).not.toMatch(/Cedric|Fothergill|Ambrose|Pilkington|Tamsin|Oakenfold|447700900451/);
  });

  it('a history asks nobody for link counts: no mcx.associateLinks/1 call on its path', async () => {
    // Hold the background recounts (GMP now holds an associate too), so that any link-count disclosure now would be the history's.
    await Promise.all(MEMBERS.map((m) => nodes[m].node.app.services.linkCounts.stop()));
    const disclosed = await linkDisclosures();
    // Every count so far was an owner's background recount, the node speaking for itself under its own case reference.
    expect(disclosed.some((e) => e.requestingNode === 'LANCS')).toBe(true);
    for (const e of disclosed) {
      const owner = e.requestingNode!;
      expect(e).toMatchObject({ caseRef: `LINK-COUNTS/${owner}`, actor: { subject: `node:${owner}`, force: owner } });
    }
    // Asked from another member (LANCS answers mcx.history/1) and from the owner's own node.
    const own = await nodes.LANCS.as({ roles: ['investigator'], headers: readHeaders('LANCS') });
    for (const client of [investigator, own]) {
      const { childHistory: h } = await client.request(ChildHistoryDocument, { identity: CHILD });
      expect(h.federation.completeness).toBe('COMPLETE');
      expect(h.associates.find((a) => a.pointer.id === adult)).toMatchObject({ otherChildrenLinked: 1, linksComplete: true });
    }
    expect(await linkDisclosures()).toHaveLength(disclosed.length);
    // Nor did the owner consult anyone about its associates while answering.
    const ownEntries = await allEntries(await nodes.LANCS.as({ roles: ['auditor'] }));
    const consultations = ownEntries.filter((e) => e.operation === 'associateLinks');
    expect(consultations.length).toBeGreaterThan(0);
    for (const e of consultations) expect(e).toMatchObject({ caseRef: 'LINK-COUNTS/LANCS', reason: 'LINK_COUNTS_REFRESH' });
  });

  it('a member that gives a malformed count keeps its old one, with its old time', async () => {
    const old = await stored(adult);
    const gmpBefore = old.byForce.find((f) => f.force === 'GMP')!;
    {
      using _ = faults.lie('GMP', async (a) => ({
        ...a,
        data: { peerAssociateLinks: { links: [{ owner: 'LANCS', id: adult, children: -4 }] } },
      }));
      const outcome = await nodes.LANCS.node.app.services.linkCounts.changed([adult]);
      expect(outcome).toEqual({ counted: 1, missing: ['GMP'] });
    }
    const now = await stored(adult);
    expect(now.byForce.find((f) => f.force === 'GMP')).toEqual(gmpBefore);
    expect(Date.parse(now.byForce.find((f) => f.force === 'LALANC')!.asOf)).toBeGreaterThan(Date.parse(gmpBefore.asOf));
  });

  it('a member down during the recount keeps its old count with its age, and the history says so', async () => {
    const old = await stored(adult);
    const lalancBefore = old.byForce.find((f) => f.force === 'LALANC')!;
    await nodes.LALANC.close();
    const outcome = await nodes.LANCS.node.app.services.linkCounts.changed([adult]);
    expect(outcome).toEqual({ counted: 1, missing: ['LALANC'] });
    const now = await stored(adult);
    // LALANC's count is the old one, at its old time; the others are newer.
    expect(now.byForce.find((f) => f.force === 'LALANC')).toEqual(lalancBefore);
    for (const f of now.byForce.filter((x) => x.force !== 'LALANC'))
      expect(Date.parse(f.asOf)).toBeGreaterThan(Date.parse(lalancBefore.asOf));
    expect(now.complete).toBe(true);
    const { history, adult: seen } = await adultInHistory();
    expect(history.federation.completeness).toBe('PARTIAL');
    expect(seen).toMatchObject({ otherChildrenLinked: 1, forcesLinked: ['GMP'], linksComplete: true, linkCountsAsOf: lalancBefore.asOf });
  });
});
