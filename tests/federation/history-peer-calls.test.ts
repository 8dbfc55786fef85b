// How many peer calls one childHistory makes with the record locator on (issue 23): twelve real
// members on loopback, of which five hold something of the child: her episodes at three (GMP, MPS,
// WYP), an associate her episode names at a fourth that holds no episode of her (LANCS), and a
// place of concern near where she was found at a fifth (MERS). The history must ask exactly those
// five, once each, and none of the seven that hold nothing: the count follows what is held, not
// the size of the federation. The calls are read at both ends: the caller's audited combinations
// name each member with what it did, and each member's own log holds its disclosures. A Bloom
// filter has false positives (under 1% an item, FILTER_FALSE_POSITIVE_RATE): a member whose filter,
// as the caller holds it, may hold a cell near where she was found is asked for places too, as the
// locator must; the tests work those members out from the caller's filters, never assume there are none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChildHistoryDocument, PublishSubjectDocument } from '@mcx/client';
import { filterItem } from '@mcx/federation';

import { cellsNear } from '../../services/node/src/federation/member-selection.js';
import { allEntries, auditorOf } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { eventually, startLocatorFederation } from '../testkit/locator.js';
import type { TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate, publishLocation, restrictRecord } from '../testkit/records.js';

const FORCES = ['WMP', 'GMP', 'MPS', 'WYP', 'LANCS', 'MERS', 'BTP', 'TVP', 'NYP', 'SYP', 'CLEV', 'DUR'] as const;
type Force = (typeof FORCES)[number];
const EPISODES_AT: Force[] = ['GMP', 'MPS', 'WYP'];
const LOCATOR = { MCX_LOCATOR: 'on', MCX_LOCATOR_POLL_MS: '300', MCX_LOCATOR_MAX_AGE_MS: '3000', MCX_LOCATOR_REBUILD_MS: '200' };
const PLACE = { uprn: '100010000001', postcode: 'FY1 1AA', lat: 53.8175, lon: -3.051 };
const GRADING = { scheme: '3x5x2' as const, source: '2', intelligence: 'B', handling: 'P', conditions: [] };
const CHILD = { forename: 'Keira', surname: 'Ostrowska', dob: '2010-05-14', sex: 'FEMALE' as const, nhsNumber: '9990001553' };
/** The peer operation each federated read of a history asks, as the member audits it. */
const PEER_READS = ['peerHistory', 'peerLocations', 'peerAssociatePointers'];

let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

/** The version of each member's filter that WMP holds now. */
const heldVersions = () => FORCES.map((f) => nodes.WMP.node.app.services.locatorView!.filterOf(f)?.version ?? null).join();

/** The members other than MERS whose filter, as WMP holds it, may hold a cell near where she was found: false positives. */
function placesFalsePositives(): Force[] {
  const view = nodes.WMP.node.app.services.locatorView!;
  const cells = cellsNear([{ ...PLACE, radiusMetres: nodes.WMP.config.history.nearMetres }])!.map(filterItem);
  return FORCES.filter((f) => f !== 'MERS' && view.filterOf(f)?.filter.mayContainAny(cells) === true);
}

/**
 * One childHistory from WMP, and the members its audited combinations name, by read; with the
 * false positives of the filters it chose by, and `steady` when no filter changed meanwhile (so
 * those are the filters it chose by).
 */
async function history() {
  const auditor = await auditorOf(nodes.WMP);
  const before = (await allEntries(auditor, { action: 'COMBINATION' })).length;
  const versions = heldVersions();
  const falsePositives = placesFalsePositives();
  const startedAt = new Date();
  const { childHistory } = await nodes.WMP.investigator.request(ChildHistoryDocument, { identity: CHILD });
  const steady = heldVersions() === versions;
  const reads = (await allEntries(auditor, { action: 'COMBINATION' })).slice(before);
  const asked = reads.map((e) =>
    e.queryRecordIds
      .filter((r) => !r.includes(':NOT_HOLDING'))
      .map((r) => r.split(':')[0]!)
      .sort(),
  );
  return { childHistory, reads, asked, startedAt, falsePositives, steady };
}

/** An associate GMP holds, named by GMP's own episode: its pointer comes with GMP's answer for the episodes. */
let gmpAssociate = '';

beforeAll(async () => {
  ({ nodes, close } = await startLocatorFederation(FORCES, LOCATOR, { MCX_PEER_TIMEOUT_MS: '3000', MCX_FEDERATION_DEADLINE_MS: '5000' }));
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  const { associate } = await publishAssociate(nodes.LANCS.client, associateInput());
  gmpAssociate = (await publishAssociate(nodes.GMP.client, associateInput())).associate!.id;
  expect((await publishLocation(nodes.MERS.client, locationInput({ location: PLACE, grading: GRADING }))).errors).toEqual([]);
  for (const force of EPISODES_AT) {
    const subjectRef = `SUBJ-${force}-KEIRA`;
    const { publishSubject } = await nodes[force].client.request(PublishSubjectDocument, {
      input: { subjectRef, reviewAt, identity: CHILD },
    });
    expect(publishSubject.errors).toEqual([]);
    const associates =
      force === 'GMP'
        ? [
            { owner: 'LANCS', associateId: associate!.id, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const },
            { owner: 'GMP', associateId: gmpAssociate, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const },
          ]
        : [];
    const { errors } = await publishEpisode(
      nodes[force].client,
      episodeInput({ subjectRef, foundPlace: { kind: 'OTHER', location: PLACE }, associates }),
    );
    expect(errors).toEqual([]);
  }
  // New subjects and places reach the callers' filters within a rebuild and a poll (README, "The record locator").
  await new Promise((r) => setTimeout(r, 5000));
}, 180_000);

afterAll(() => close?.());

describe('one childHistory with the record locator on', () => {
  it('asks only the five members that hold something of the child, once each, and none of the seven that hold nothing', async () => {
    // Once every filter is fresh: a stale filter is asked as before the locator (safe, but more calls). On a
    // loaded machine a member can miss the deadline (TIMED_OUT, PARTIAL): the history is asked again, up to 30 s.
    const { value: h } = await eventually(
      history,
      (h) => h.steady && h.asked.flat().length === 5 + h.falsePositives.length && h.childHistory.federation.completeness === 'COMPLETE',
      30_000,
    );
    // Three reads: the episodes, then side by side (in either order) the places near where she was found and the pointer asked of LANCS.
    expect(h.reads.map((e) => e.reason)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
    const [episodes, ...after] = h.asked.map((a) => a.join(','));
    expect(episodes).toBe('GMP,MPS,WYP');
    expect(after.sort()).toEqual(['LANCS', ['MERS', ...h.falsePositives].sort().join()].sort());
    const { childHistory } = h;
    expect(childHistory.incidents.flatMap((i) => i.sources.map((s) => s.episode.owner)).sort()).toEqual(EPISODES_AT);
    expect(childHistory.locationsOfConcern.map((l) => l.location.owner)).toEqual(['MERS']);
    expect(childHistory.associates.map((a) => a.pointer.owner).sort()).toEqual(['GMP', 'LANCS']);
    const statuses = Object.fromEntries(childHistory.federation.members.map((m) => [m.member, m.status]));
    const holding = new Set([...EPISODES_AT, 'LANCS', 'MERS']);
    const asked = new Set([...holding, ...h.falsePositives]);
    for (const force of FORCES) expect([force, statuses[force]]).toEqual([force, asked.has(force) ? 'ANSWERED' : 'NOT_HOLDING']);
    // At the other end: since this history began, a member that holds nothing audited no disclosure; each holder one per read it was asked.
    const filter = { caseRef: h.reads[0]!.caseRef, from: h.startedAt.toISOString() };
    expect(filter.caseRef).toMatch(/\S/);
    for (const force of FORCES) {
      const disclosed = (await allEntries(await auditorOf(nodes[force]), filter)).filter((e) => PEER_READS.includes(e.operation));
      const reads = (holding.has(force) ? 1 : 0) + (h.falsePositives.includes(force) ? 1 : 0);
      expect([force, disclosed.length]).toEqual([force, reads]);
    }
  });

  it('never asks an owner again for a pointer its own answer withheld: it answered for it, and counted it', async () => {
    expect((await restrictRecord(nodes.GMP.client, 'ASSOCIATE', gmpAssociate)).errors).toEqual([]);
    // GMP rebuilds its filter (a new salt) after the restriction: a history that saw a filter change is asked again.
    // Asked again, as above, until every filter is fresh (a member whose filter WMP has not fetched again is asked
    // as before the locator) and no member missed the deadline on a loaded machine.
    const { value: h } = await eventually(
      history,
      (h) => h.steady && h.asked.flat().length === 5 + h.falsePositives.length && h.childHistory.federation.completeness === 'COMPLETE',
      30_000,
    );
    const [episodes, ...after] = h.asked.map((a) => a.join(','));
    expect(episodes).toBe('GMP,MPS,WYP');
    expect(after.sort()).toEqual(['LANCS', ['MERS', ...h.falsePositives].sort().join()].sort());
    expect(h.childHistory.associates.map((a) => a.pointer.owner)).toEqual(['LANCS']);
    const gmp = h.childHistory.federation.members.find((m) => m.member === 'GMP')!;
    expect(gmp.status).toBe('ANSWERED');
    expect(gmp.withheld?.restricted).toBe(1);
    expect(h.childHistory.federation.completeness).toBe('COMPLETE');
  });
});
