/**
 * A federated read end to end: five real nodes on loopback, each with its own database, one
 * trust manifest, and the federation's linkage service. WMP asks; GMP and MPS are honest; WYP
 * can be slowed; BTP can be made to lie. Its faults are injected into a real node's answers.
 * What a receiving end refuses is in peer-endpoint.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { ChildHistoryDocument, FederatedEpisodesDocument, LocalEpisodeDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { keyResolverFromKeys, toPublicKey, verifyReceipt } from '@mcx/signing';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { memberRow, peerFaults, startFederation, type TestFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';
import { memoryTelemetry } from '../testkit/telemetry.js';

const telemetry = await memoryTelemetry();
const FORCES = ['WMP', 'GMP', 'MPS', 'WYP', 'BTP'] as const;
type Force = (typeof FORCES)[number];
const CHILD = { forename: 'Rosalind', surname: 'Quennell', dob: '2011-04-09', sex: 'FEMALE' as const, nhsNumber: '9990001413' };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
const PEER_TIMEOUT_MS = 800;
const DEADLINE_MS = 1500;

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
const faults = peerFaults();
let wypPolicy = '';
const DEFAULT_POLICY = JSON.parse(readFileSync(new URL('../../deploy/disclosure-policy.json', import.meta.url), 'utf8')) as {
  readers: Record<string, { purposes: string[] }>;
};
const ids = {} as Record<string, string>;

async function publishSubject(client: McxClient, subjectRef: string, identity: Record<string, unknown>) {
  const { publishSubject: r } = await client.request(PublishSubjectDocument, { input: { subjectRef, reviewAt, identity } });
  expect(r.errors).toEqual([]);
}

async function seedEpisode(force: Force, subjectRef: string, over: Parameters<typeof episodeInput>[0] = {}): Promise<string> {
  const { episode, errors } = await publishEpisode(nodes[force].client, episodeInput({ subjectRef, ...over }));
  expect(errors).toEqual([]);
  return episode!.id;
}

function ask(identity: Record<string, unknown> = CHILD) {
  return nodes.WMP.investigator.request(FederatedEpisodesDocument, { identity });
}

beforeAll(async () => {
  // WYP's own policy does not admit police for repeat reviews: its refusal must reach the caller.
  const policyDir = mkdtempSync(path.join(tmpdir(), 'mcx-policy-'));
  wypPolicy = path.join(policyDir, 'wyp-policy.json');
  const police = {
    ...DEFAULT_POLICY.readers.police!,
    purposes: DEFAULT_POLICY.readers.police!.purposes.filter((p) => p !== 'MISSING_REVIEW'),
  };
  writeFileSync(wypPolicy, JSON.stringify({ ...DEFAULT_POLICY, version: 'wyp-1', readers: { ...DEFAULT_POLICY.readers, police } }));
  ({ fed, nodes, close } = await startFederation(FORCES, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    env: {
      MCX_PEER_TIMEOUT_MS: String(PEER_TIMEOUT_MS),
      MCX_FEDERATION_DEADLINE_MS: String(DEADLINE_MS),
      MCX_PEER_BREAKER_FAILURES: '2',
      MCX_PEER_BREAKER_HALF_OPEN_MS: '30000',
      MCX_PEER_MAX_RESPONSE_BYTES: '262144',
    },
    node: (force) => ({
      peerAnswerFault: faults.hook(force),
      env: force === 'WYP' ? { MCX_DISCLOSURE_POLICY_FILE: wypPolicy } : undefined,
    }),
  }));
  for (const force of FORCES) await publishSubject(nodes[force].client, `SUBJ-${force}-1`, CHILD);
  // At GMP also a different child who shares forename, date of birth and sex: a possible match only.
  await publishSubject(nodes.GMP.client, 'SUBJ-GMP-2', { ...CHILD, surname: 'Fairweather', nhsNumber: undefined });
  const { associate } = await publishAssociate(nodes.GMP.client, associateInput({ ownerReference: 'ASC-GMP-7' }));
  ids.gmpAssociate = associate!.id;
  for (const force of FORCES) ids[force] = await seedEpisode(force, `SUBJ-${force}-1`);
  ids.gmpWithAssociate = await seedEpisode('GMP', 'SUBJ-GMP-1', {
    associates: [{ associateId: ids.gmpAssociate, role: 'FOUND_WITH', dataSubjectCategory: 'OTHER' }],
  });
  ids.gmpPossible = await seedEpisode('GMP', 'SUBJ-GMP-2');
  ids.btpOther = await seedEpisode('BTP', 'SUBJ-BTP-9');
  // An associate held by BTP that only MPS's episode of the child names: BTP's own answer will not carry it.
  const btpAssociate = await publishAssociate(
    nodes.BTP.client,
    associateInput({ ownerReference: 'ASC-BTP-3', identity: { forename: 'Silas', surname: 'Varga', phone: '+447700900777' } }),
  );
  ids.btpAssociate = btpAssociate.associate!.id;
  ids.mpsNamingBtp = await seedEpisode('MPS', 'SUBJ-MPS-1', {
    associates: [{ owner: 'BTP', associateId: ids.btpAssociate, role: 'MISSING_WITH', dataSubjectCategory: 'SUSPECT' }],
  });
  // Owners keep their associates' link counts in the background: told that something changed, BTP counts now.
  await nodes.BTP.node.app.services.linkCounts.changed();
}, 120_000);

afterAll(async () => {
  vi.useRealTimers();
  await close?.();
});

describe('a federated read', () => {
  it('gathers verified episodes from every member, strong and possible apart, with associates as pointers', async () => {
    const { federatedEpisodes: r } = await ask();
    expect(r.federation.completeness).toBe('COMPLETE');
    expect(r.federation.members.map((m) => [m.member, m.status]).sort()).toEqual(FORCES.map((f) => [f, 'ANSWERED']).sort());
    expect(r.strong.map((e) => e.episode.id).sort()).toEqual(
      [ids.WMP, ids.GMP, ids.gmpWithAssociate, ids.MPS, ids.mpsNamingBtp, ids.WYP, ids.BTP].sort(),
    );
    expect(r.strong.every((e) => e.verification === 'VERIFIED' && e.matchedKinds.includes('nhs'))).toBe(true);
    expect(r.possible.map((e) => [e.episode.owner, e.episode.id])).toEqual([['GMP', ids.gmpPossible]]);
    expect(r.associates).toEqual([
      expect.objectContaining({
        owner: 'GMP',
        id: ids.gmpAssociate,
        kind: 'ADULT_OF_CONCERN',
        ownerReference: 'ASC-GMP-7',
        contact: '+44 100 000 0000',
      }),
    ]);
    // Never an associate's name or descriptors in a federated answer.
    expect(JSON.stringify(r)).not.toMatch(/descriptors|ageBand|Quennell|Rosalind/);
  });

  it('audits both ends: the consultation and combination here, a disclosure at each member naming it, and the receipts witnessing them', async () => {
    const auditor = (f: Force) => nodes[f].as({ roles: ['auditor'] });
    const before = await allEntries(await auditor('WMP'));
    await ask();
    const here = (await allEntries(await auditor('WMP'))).slice(before.length).filter((e) => e.operation === 'federatedEpisodes');
    expect(here.map((e) => e.action)).toEqual(['CONSULTATION', 'COMBINATION']);
    const consultation = here[0]!;
    // Who asked, as their issuer knows them: the subject is unique only with its issuer, at both ends.
    const asker = { subject: 'test-investigator', issuer: nodes.WMP.issuer.issuer, force: 'WMP', orgKind: 'police' };
    expect(consultation.actor).toMatchObject(asker);
    const sql = postgres(nodes.WMP.databaseUrl, { max: 1 });
    try {
      const receipts = await sql<
        { peer: string; peer_entry_id: string; receipt_jws: string }[]
      >`select peer, peer_entry_id, receipt_jws from audit_receipts where our_seq = ${consultation.seq}`;
      expect(receipts.map((r) => r.peer).sort()).toEqual([...FORCES].sort());
      for (const r of receipts) {
        const member = r.peer as Force;
        const { receipt } = verifyReceipt(r.receipt_jws, keyResolverFromKeys([toPublicKey(fed.keys[member]!.auditCheckpoint)]));
        expect(receipt).toMatchObject({ node: member, to: 'WMP', callerEntry: `WMP:${consultation.seq}`, entry: { id: r.peer_entry_id } });
        const disclosures = (await allEntries(await auditor(member))).filter(
          (e) => e.action === 'DISCLOSURE' && e.operation === 'peerHistory',
        );
        const theirs = disclosures.find((e) => `${member}:${e.seq}` === r.peer_entry_id);
        expect(theirs, member).toMatchObject({
          requestingNode: 'WMP',
          purpose: 'MISSING_LIVE_SEARCH',
          caseRef: readHeaders('WMP')['x-mcx-case-ref'],
          actor: asker,
        });
        // Their entry names ours: the two logs point at each other.
        const theirSql = postgres(nodes[member].databaseUrl, { max: 1 });
        try {
          const [row] = await theirSql<
            { peer: string | null }[]
          >`select entry->>'peerEntryId' as peer from audit_entries where seq = ${theirs!.seq}`;
          expect(row?.peer).toBe(`WMP:${consultation.seq}`);
        } finally {
          await theirSql.end();
        }
      }
      // The integrity page's witnesses: the newest receipts held, oldest first, never WMP's own to itself.
      const { auditStatus } = (await (
        await auditor('WMP')
      ).request(
        gql`
          {
            auditStatus {
              witnesses {
                peer
                peerEntryId
                ourSeq
              }
            }
          }
        ` as never,
      )) as { auditStatus: { witnesses: { peer: string; peerEntryId: string; ourSeq: number }[] } };
      const others = receipts.filter((r) => r.peer !== 'WMP');
      expect(auditStatus.witnesses.length).toBeGreaterThanOrEqual(others.length);
      expect(auditStatus.witnesses.length).toBeLessThanOrEqual(50);
      expect(auditStatus.witnesses.some((w) => w.peer === 'WMP')).toBe(false);
      expect(auditStatus.witnesses.slice(-others.length).map((w) => [w.peer, w.peerEntryId, w.ourSeq])).toEqual(
        expect.arrayContaining(others.map((r) => [r.peer, r.peer_entry_id, consultation.seq])),
      );
    } finally {
      await sql.end();
    }
  });

  it("childHistory asks an associate's owner for its pointer when only another force's episode names it", async () => {
    const { childHistory: h } = await nodes.WMP.investigator.request(ChildHistoryDocument, { identity: CHILD });
    expect(h.federation.completeness).toBe('COMPLETE');
    const byOwner = Object.fromEntries(h.associates.map((a) => [a.pointer.owner, a]));
    // GMP holds no identity for its associate, so nobody can count its links: no count, and it says so.
    expect(byOwner.GMP).toMatchObject({
      pointer: { id: ids.gmpAssociate, ownerReference: 'ASC-GMP-7' },
      seenIn: [{ owner: 'GMP', episodeId: ids.gmpWithAssociate, role: 'FOUND_WITH' }],
      otherChildrenLinked: null,
      linksComplete: false,
      linkCountsAsOf: null,
    });
    expect(byOwner.BTP).toMatchObject({
      pointer: { id: ids.btpAssociate, ownerReference: 'ASC-BTP-3', kind: 'ADULT_OF_CONCERN' },
      seenIn: [{ owner: 'MPS', episodeId: ids.mpsNamingBtp, role: 'MISSING_WITH' }],
      otherChildrenLinked: 0,
      forcesLinked: [],
      linksComplete: true,
    });
    // BTP audited the pointer it gave as a disclosure to WMP.
    const entries = await allEntries(await nodes.BTP.as({ roles: ['auditor'] }));
    expect(entries.find((e) => e.operation === 'peerAssociatePointers' && e.recordIds.includes(`BTP/${ids.btpAssociate}`))).toMatchObject({
      action: 'DISCLOSURE',
      requestingNode: 'WMP',
    });
  });

  it('is one trace across the nodes, with a span per peer', async () => {
    telemetry.reset();
    await ask();
    const spans = telemetry.finishedSpans();
    const root = spans.find((s) => s.name === 'mcx.graphql' && s.attributes['mcx.node'] === 'WMP')!;
    expect(root).toBeDefined();
    const calls = spans.filter((s) => s.name === 'mcx.peer.call' && s.traceId === root.traceId);
    expect(calls.map((s) => s.attributes['mcx.peer']).sort()).toEqual([...FORCES].sort());
    const answers = spans.filter((s) => s.name === 'mcx.peer.answer');
    for (const force of FORCES) {
      const call = calls.find((c) => c.attributes['mcx.peer'] === force)!;
      const answer = answers.find((a) => a.attributes['mcx.node'] === force && a.parentSpanId === call.spanId);
      expect(answer?.traceId, force).toBe(root.traceId);
    }
  });
});

describe('honest partial results', () => {
  it('a member whose own policy refuses the purpose is REFUSED with its reason, while the others answer', async () => {
    const reviewer = await nodes.WMP.as({ roles: ['investigator'], headers: { ...readHeaders('WMP'), 'x-mcx-purpose': 'MISSING_REVIEW' } });
    const { federatedEpisodes: r } = await reviewer.request(FederatedEpisodesDocument, { identity: CHILD });
    expect(memberRow(r, 'WYP')).toMatchObject({
      status: 'REFUSED',
      reason: 'PURPOSE_NOT_PERMITTED',
      withheld: null,
    });
    expect(r.federation.members.filter((m) => m.member !== 'WYP').every((m) => m.status === 'ANSWERED')).toBe(true);
    expect(r.federation.completeness).toBe('PARTIAL');
    // WYP audited the refusal of WMP's investigator.
    const entries = await allEntries(await nodes.WYP.as({ roles: ['auditor'] }));
    expect(entries.find((e) => e.action === 'AUTHORISATION_FAILURE' && e.reason === 'PURPOSE_NOT_PERMITTED')).toMatchObject({
      actor: { force: 'WMP' },
    });
  });

  it('a member slowed past its timeout is reported as timed out, while the others answer', async () => {
    using _slow = faults.slow('WYP', PEER_TIMEOUT_MS + 700);
    const { federatedEpisodes: r } = await ask();
    const wyp = memberRow(r, 'WYP');
    expect(wyp).toMatchObject({ status: 'TIMED_OUT', reason: 'TIMEOUT', withheld: null });
    expect(wyp.latencyMs).toBeLessThan(DEADLINE_MS);
    expect(r.federation.completeness).toBe('PARTIAL');
    expect(r.federation.members.filter((m) => m.member !== 'WYP').every((m) => m.status === 'ANSWERED')).toBe(true);
    expect(r.strong.map((e) => e.episode.owner)).not.toContain('WYP');
    expect(r.strong.map((e) => e.episode.owner)).toContain('GMP');
  });

  it('drops and reports a tampered record, another owner’s record, an unrequested record; and an oversized answer', async () => {
    // Genuine signed records to misuse: one of GMP's, and one of BTP's for another child.
    const gmpRecord = (await nodes.GMP.investigator.request(LocalEpisodeDocument, { owner: 'GMP', id: ids.GMP! })).localEpisode!;
    const btpOther = (await nodes.BTP.investigator.request(LocalEpisodeDocument, { owner: 'BTP', id: ids.btpOther! })).localEpisode!;
    using _lie = faults.lie('BTP', async (a) => {
      const answer = structuredClone(a) as {
        data: {
          peerHistory: { records: { kind: string; owner: string; id: string; version: number; bytes: string; signature: string }[] };
        };
      };
      const records = answer.data.peerHistory.records;
      const own = records.find((r) => r.id === ids.BTP)!;
      own.bytes = own.bytes.replace('"riskGrade":"MEDIUM"', '"riskGrade":"LOW"');
      records.push({
        kind: 'episode',
        owner: 'GMP',
        id: gmpRecord.id,
        version: gmpRecord.version,
        bytes: gmpRecord.recordBytes,
        signature: gmpRecord.recordSignature,
      });
      records.push({
        kind: 'episode',
        owner: 'BTP',
        id: btpOther.id,
        version: btpOther.version,
        bytes: btpOther.recordBytes,
        signature: btpOther.recordSignature,
      });
      return answer;
    });
    const { federatedEpisodes: r } = await ask();
    const btp = memberRow(r, 'BTP');
    expect(btp.status).toBe('BAD_DATA');
    expect(btp.dropped.map((d) => [d.owner, d.id, d.reason]).sort()).toEqual(
      [
        ['BTP', ids.BTP, 'BAD_SIGNATURE'],
        ['GMP', ids.GMP, 'WRONG_OWNER'],
        ['BTP', ids.btpOther, 'NOT_REQUESTED'],
      ].sort(),
    );
    expect(r.federation.completeness).toBe('PARTIAL');
    const fromBtp = r.strong.filter((e) => e.episode.owner === 'BTP');
    expect(fromBtp).toEqual([]);
    // GMP's own answer still counts once, from GMP.
    expect(r.strong.filter((e) => e.episode.id === ids.GMP)).toHaveLength(1);

    {
      using _oversized = faults.lie('BTP', async () =>
        JSON.stringify({ data: { peerHistory: { matches: [], records: [], withheld: {} } }, padding: 'x'.repeat(300_000) }),
      );
      const big = memberRow((await ask()).federatedEpisodes, 'BTP');
      expect(big).toMatchObject({ status: 'BAD_DATA', reason: 'RESPONSE_TOO_LARGE' });
    }
  });

  it('the breaker opens after repeated failures, then half-opens on the clock and closes on success', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      {
        using _slow = faults.slow('WYP', PEER_TIMEOUT_MS + 700);
        // Two failures in a row open it (MCX_PEER_BREAKER_FAILURES=2); the third call is not sent.
        const statuses: string[] = [];
        for (let i = 0; i < 3; i++) statuses.push(memberRow((await ask()).federatedEpisodes, 'WYP').status);
        expect(statuses).toEqual(['TIMED_OUT', 'TIMED_OUT', 'CIRCUIT_OPEN']);
        const open = memberRow((await ask()).federatedEpisodes, 'WYP');
        expect(open).toMatchObject({ status: 'CIRCUIT_OPEN', reason: 'CIRCUIT_OPEN', latencyMs: 0 });
      }
      vi.setSystemTime(Date.now() + 29_000);
      expect(memberRow((await ask()).federatedEpisodes, 'WYP').status).toBe('CIRCUIT_OPEN');
      vi.setSystemTime(Date.now() + 2_000);
      const trial = (await ask()).federatedEpisodes;
      expect(memberRow(trial, 'WYP').status).toBe('ANSWERED');
      expect(trial.federation.completeness).toBe('COMPLETE');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a member that is down: a partial result with its status, within the deadline', async () => {
    await nodes.MPS.close();
    const started = performance.now();
    const { federatedEpisodes: r } = await ask();
    const elapsed = performance.now() - started;
    expect(memberRow(r, 'MPS')).toMatchObject({ status: 'UNAVAILABLE', reason: 'ECONNREFUSED' });
    expect(r.federation.completeness).toBe('PARTIAL');
    expect(r.strong.map((e) => e.episode.owner)).not.toContain('MPS');
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1500);
  });
});
