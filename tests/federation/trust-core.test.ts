/**
 * The trust core across nodes: who a peer request speaks for, who is counted in a federated
 * answer, and what a receipt must prove. Real nodes on loopback, one signed manifest:
 * - WMP (police) owns the disclosure matrix's records, and answers its own investigators'
 *   federated reads as a peer like any other;
 * - GMP (police) asks for other police;
 * - LACOVE (Coventry, a local authority) owns an associate that a police search meets;
 * - MPS (police) offers every operation but mcx.history/1.
 * What a member may claim when it asks, and who may ask for link counts, are in peer-claims.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ChildHistoryDocument,
  FederatedEpisodesDocument,
  PublishSubjectDocument,
  ReviewRecordDocument,
  type McxClient,
  type McxGradingInput,
} from '@mcx/client';
import { PEER_HISTORY, PEER_OPERATIONS } from '@mcx/federation';
import { canonicalJson, keyResolverFromKeys, RECEIPT_TYP, signCheckpoint, signReceipt, toPublicKey, verifyReceipt } from '@mcx/signing';
import { craftJws } from '@mcx/signing/testing';

import { allEntries, AUDIT_ALERTS } from '../testkit/audit.js';
import { MATRIX, MATRIX_EPISODE, RECORDS, type RecordName, type Requester } from '../testkit/disclosure-matrix.js';
import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { memberRow, peerFaults, startFederation, type TestFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';

const MEMBERS = ['WMP', 'GMP', 'LACOVE', 'MPS'] as const;
type Member = (typeof MEMBERS)[number];
const CHILD = { forename: 'Marigold', surname: 'Threlkeld', dob: '2010-02-17', sex: 'FEMALE' as const, nhsNumber: '9990001421' };
const OTHER_CHILD = { forename: 'Peregrine', surname: 'Ashcombe', dob: '2009-08-03', sex: 'MALE' as const };
const ADULT = { forename: 'Leopold', surname: 'Vantongeren', phone: '+447700900777' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

let fed: TestFederation;
let nodes: Record<Member, TestNode>;
let close: () => Promise<void>;
const faults = peerFaults();
const ids = {} as Record<RecordName, string>;
let lacoveAssociate = '';
let gmpLinkedEpisode = '';

async function publishSubject(client: McxClient, subjectRef: string, identity: Record<string, unknown>) {
  const { publishSubject: r } = await client.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity } });
  expect(r.errors).toEqual([]);
}

/** A client for `who` at `node`, minted by that node's development issuer. */
function as(node: TestNode, who: Requester): Promise<McxClient> {
  return node.as({
    roles: ['investigator'],
    orgKind: who.orgKind,
    force: who.force,
    subject: `u-${who.name.replace(/\W+/g, '-')}`,
    kind: 'user',
    headers: { 'x-mcx-purpose': who.purpose, 'x-mcx-case-ref': 'CASE-26-4242' },
  });
}

beforeAll(async () => {
  const all = PEER_OPERATIONS.map((op) => op.name);
  ({ fed, nodes, close } = await startFederation(MEMBERS, {
    capabilities: all,
    capabilitiesOf: { MPS: all.filter((name) => name !== PEER_HISTORY.name) },
    kinds: { LACOVE: 'local_authority' },
    node: (m) => ({ peerAnswerFault: faults.hook(m) }),
  }));
  // WMP: the child, with one episode of each handling code, condition and grade.
  await publishSubject(nodes.WMP.client, 'SUBJ-WMP-1', CHILD);
  for (const [name, grading] of Object.entries(RECORDS) as [RecordName, McxGradingInput | null][]) {
    const { episode, errors } = await publishEpisode(
      nodes.WMP.client,
      episodeInput({ subjectRef: 'SUBJ-WMP-1', ...MATRIX_EPISODE, grading }),
    );
    expect(errors).toEqual([]);
    ids[name] = episode!.id;
  }
  // Coventry: the same child, found with an adult it holds; GMP: another child found with the same adult.
  await publishSubject(nodes.LACOVE.client, 'SUBJ-COV-1', CHILD);
  const held = await publishAssociate(nodes.LACOVE.client, associateInput({ ownerReference: 'COV-ASC-1', identity: ADULT }));
  expect(held.errors).toEqual([]);
  lacoveAssociate = held.associate!.id;
  const cov = await publishEpisode(
    nodes.LACOVE.client,
    episodeInput({
      subjectRef: 'SUBJ-COV-1',
      associates: [{ owner: 'LACOVE', associateId: lacoveAssociate, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(cov.errors).toEqual([]);
  await publishSubject(nodes.GMP.client, 'SUBJ-GMP-9', OTHER_CHILD);
  const theirs = await publishAssociate(nodes.GMP.client, associateInput({ ownerReference: 'GMP-ASC-9', identity: ADULT }));
  expect(theirs.errors).toEqual([]);
  const gmp = await publishEpisode(
    nodes.GMP.client,
    episodeInput({
      subjectRef: 'SUBJ-GMP-9',
      associates: [{ owner: 'GMP', associateId: theirs.associate!.id, role: 'FOUND_WITH', dataSubjectCategory: 'SUSPECT' }],
    }),
  );
  expect(gmp.errors).toEqual([]);
  gmpLinkedEpisode = gmp.episode!.id;
  // Owners keep their associates' link counts in the background: told that something changed, Coventry counts now.
  await nodes.LACOVE.node.app.services.linkCounts.changed();
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe("a requester's own organisation decides what the owner discloses, locally and through the federation alike", () => {
  for (const row of MATRIX) {
    it(`${row.who.name}: the federated view of each record is exactly the local view`, async () => {
      // Other police ask from their own node; the owner's own police and its partners ask through WMP, which asks itself.
      const home = row.who.force === 'GMP' ? nodes.GMP : nodes.WMP;
      const local = await as(nodes.WMP, row.who);
      const federated = (await (await as(home, row.who)).request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
      const fromWmp = new Map(federated.strong.filter((e) => e.episode.owner === 'WMP').map((e) => [e.episode.id, e.episode]));
      for (const name of Object.keys(RECORDS) as RecordName[]) {
        const mine = await localEpisode(local, 'WMP', ids[name]);
        const theirs = fromWmp.get(ids[name]) ?? null;
        expect(theirs === null, `${name}: withheld alike`).toBe(mine === null);
        expect(mine === null, `${name}: as the matrix says`).toBe(!row.sees.includes(name));
        if (!mine || !theirs) continue;
        // The same signed bytes: the same fields removed or coarsened, the same note.
        expect(theirs.recordBytes, name).toBe(mine.recordBytes);
        expect(theirs.missingFrom, name).toEqual(mine.missingFrom);
        expect(theirs.assessment.indicators, name).toEqual(mine.assessment.indicators);
      }
      const wmp = memberRow(federated, 'WMP');
      expect(wmp.status).toBe('ANSWERED');
      expect(wmp.withheld?.notDisclosable).toBe(6 - row.sees.length);
    });
  }

  it("the owner's disclosure entry names the requester's organisation, and the member that asked", async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const entries = (await allEntries(auditor)).filter((e) => e.action === 'DISCLOSURE' && e.operation === 'peerHistory');
    const byLa = entries.filter((e) => e.actor.force === 'LABIRM');
    expect(byLa.length).toBeGreaterThan(0);
    for (const e of byLa) expect(e).toMatchObject({ requestingNode: 'WMP', actor: { force: 'LABIRM', orgKind: 'local_authority' } });
    expect(entries.some((e) => e.actor.force === 'GMP' && e.requestingNode === 'GMP')).toBe(true);
    expect(entries.some((e) => e.actor.force === 'PRV001' && e.actor.orgKind === 'provider' && e.requestingNode === 'WMP')).toBe(true);
  });
});

describe('fishing alerts at the owner', () => {
  it("count another force's reads of its records, not only its own investigators'", async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const { auditAlerts } = (await auditor.request(
      AUDIT_ALERTS as never,
      { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), t: 0 } as never,
    )) as { auditAlerts: { kind: string; actorSubject: string; actorRequestingNode: string | null; count: number }[] };
    // The GMP investigators' reads reached WMP only as disclosures through the peer protocol: who
    // each is, GMP's node says (actorRequestingNode), so they are counted apart from the same
    // subjects signed in at WMP itself, and from any other member's.
    const volume = auditAlerts.filter((a) => /volume/i.test(a.kind) && a.actorSubject.startsWith('u-other-police'));
    const relayed = volume.filter((a) => a.actorRequestingNode === 'GMP');
    expect(relayed.map((a) => a.actorSubject).sort()).toEqual(['u-other-police-live-search', 'u-other-police-repeat-review']);
    for (const a of relayed) expect(a.count).toBeGreaterThanOrEqual(1);
    expect(volume.every((a) => a.actorRequestingNode === 'GMP' || a.actorRequestingNode === null)).toBe(true);
  });
});

describe('every member of the manifest is in the status', () => {
  it('a member that does not offer the operation is NOT_OFFERED, and the answer is PARTIAL', async () => {
    const r = (await nodes.GMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
    expect(r.federation.members.map((m) => m.member).sort()).toEqual([...MEMBERS].sort());
    expect(memberRow(r, 'MPS')).toMatchObject({
      status: 'NOT_OFFERED',
      reason: 'OPERATION_NOT_OFFERED',
      withheld: null,
    });
    for (const m of ['WMP', 'GMP', 'LACOVE']) expect(memberRow(r, m).status, m).toBe('ANSWERED');
    expect(r.federation.completeness).toBe('PARTIAL');
  });
});

describe("a local authority's node counts its associate's links for a police requester", () => {
  it('the counts are complete, and name the force that holds another child', async () => {
    const r = (await nodes.GMP.investigator.request(ChildHistoryDocument, { identity: CHILD })).childHistory;
    const a = r.associates.find((x) => x.pointer.owner === 'LACOVE' && x.pointer.id === lacoveAssociate)!;
    expect(a).toBeDefined();
    expect(a.linksComplete).toBe(true);
    expect(a.otherChildrenLinked).toBe(1);
    expect(a.forcesLinked).toEqual(['GMP']);
    // Each member that counted logged it as a disclosure to Coventry's node, speaking for itself.
    const auditor = await nodes.GMP.as({ roles: ['auditor'] });
    const counted = (await allEntries(auditor)).filter((e) => e.operation === 'peerAssociateLinks');
    expect(counted.at(-1)).toMatchObject({
      requestingNode: 'LACOVE',
      actor: { force: 'LACOVE', orgKind: 'local_authority', subject: 'node:LACOVE' },
      reason: 'LINK_COUNTS',
    });
  });

  it('a reviewed episode still links its associates (the review keeps the indexed links)', async () => {
    const reviewAt = new Date(Date.now() + 500 * 86400_000).toISOString().slice(0, 10);
    const { reviewRecord } = await nodes.GMP.client.request(ReviewRecordDocument, {
      kind: 'EPISODE',
      id: gmpLinkedEpisode,
      version: 2,
      reviewAt,
    });
    expect(reviewRecord.errors).toEqual([]);
    const r = (await nodes.GMP.investigator.request(ChildHistoryDocument, { identity: CHILD })).childHistory;
    const a = r.associates.find((x) => x.pointer.owner === 'LACOVE' && x.pointer.id === lacoveAssociate)!;
    expect(a).toMatchObject({ otherChildrenLinked: 1, forcesLinked: ['GMP'], linksComplete: true });
  });
});

describe('a disclosure receipt proves its checkpoint', () => {
  const gmpReceipt = (a: { receipt: string }, checkpoint: string) => {
    const { receipt } = verifyReceipt(a.receipt, keyResolverFromKeys([toPublicKey(fed.keys.GMP!.auditCheckpoint)]));
    return signReceipt({ ...receipt, checkpoint }, fed.keys.GMP!.auditCheckpoint);
  };

  for (const [what, checkpoint] of [
    ['a checkpoint that is not a JWS', () => 'not.a.checkpoint'],
    [
      "another member's checkpoint",
      () => signCheckpoint({ node: 'WMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.WMP!.auditCheckpoint),
    ],
    [
      "the member's checkpoint signed with another member's key",
      () => signCheckpoint({ node: 'GMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.WMP!.auditCheckpoint),
    ],
    [
      'a checkpoint naming another node, signed with the member’s key',
      () => signCheckpoint({ node: 'WMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toISOString() }, fed.keys.GMP!.auditCheckpoint),
    ],
    [
      // The auditors' Integrity page shows a receipt's checkpoint time: free text there would break it (or carry control sequences).
      "the member's own checkpoint with a time not written as nodes write one",
      () =>
        craftJws(
          { alg: 'EdDSA', kid: fed.keys.GMP!.auditCheckpoint.kid, typ: 'mcx-checkpoint+jws' },
          canonicalJson({ node: 'GMP', size: 1, headHash: 'a'.repeat(64), at: new Date().toString().replace(/\(.*\)$/, '(\u001b[2K ok)') }),
          fed.keys.GMP!.auditCheckpoint.privateKey,
        ),
    ],
  ] as const) {
    it(`${what}: the member's answer is dropped as BAD_DATA`, async () => {
      using _lie = faults.lie('GMP', async (a) => ({ ...a, receipt: gmpReceipt(a, checkpoint()) }));
      const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
      expect(memberRow(r, 'GMP')).toMatchObject({
        status: 'BAD_DATA',
        reason: expect.stringMatching(/^RECEIPT_(INVALID|CHECKPOINT_MISMATCH)$/),
      });
      expect(r.federation.completeness).toBe('PARTIAL');
    });
  }

  for (const [what, minutes] of [
    ['dated a year ahead', 365 * 24 * 60],
    ['dated ten minutes ago', -10],
  ] as const) {
    it(`a receipt ${what}, signed by the member: the answer is dropped as BAD_DATA (RECEIPT_TIME_SKEWED)`, async () => {
      using _lie = faults.lie('GMP', async (a) => {
        const { receipt } = verifyReceipt(a.receipt, keyResolverFromKeys([toPublicKey(fed.keys.GMP!.auditCheckpoint)]));
        const at = new Date(Date.parse(receipt.at) + minutes * 60_000).toISOString();
        return { ...a, receipt: signReceipt({ ...receipt, at }, fed.keys.GMP!.auditCheckpoint) };
      });
      const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
      expect(memberRow(r, 'GMP')).toMatchObject({ status: 'BAD_DATA', reason: 'RECEIPT_TIME_SKEWED' });
      expect(r.federation.completeness).toBe('PARTIAL');
    });
  }

  it('a receipt whose time is not written as nodes write it (free text Date.parse would still read) is dropped as BAD_DATA (RECEIPT_INVALID)', async () => {
    // The auditors' report prints a receipt's time: this one would carry terminal control sequences into it.
    using _lie = faults.lie('GMP', async (a) => {
      const { receipt } = verifyReceipt(a.receipt, keyResolverFromKeys([toPublicKey(fed.keys.GMP!.auditCheckpoint)]));
      const at = `${new Date(Date.parse(receipt.at)).toString().replace(/\(.*\)$/, '')}(\u001b[2K ok)`;
      expect(Math.abs(Date.parse(at) - Date.parse(receipt.at))).toBeLessThan(1000);
      // signReceipt refuses such a time: signed as a member bent on sending it would.
      return {
        ...a,
        receipt: craftJws(
          { alg: 'EdDSA', kid: fed.keys.GMP!.auditCheckpoint.kid, typ: RECEIPT_TYP },
          canonicalJson({ ...receipt, at }),
          fed.keys.GMP!.auditCheckpoint.privateKey,
        ),
      };
    });
    const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
    expect(memberRow(r, 'GMP')).toMatchObject({ status: 'BAD_DATA', reason: 'RECEIPT_INVALID' });
    expect(r.federation.completeness).toBe('PARTIAL');
  });

  it('an honest receipt with its real checkpoint is accepted', async () => {
    const r = (await nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity: CHILD })).federatedEpisodes;
    expect(memberRow(r, 'GMP').status).toBe('ANSWERED');
  });
});
