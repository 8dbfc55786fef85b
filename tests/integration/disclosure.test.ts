/**
 * The disclosure policy, as a requester sees it: a table of organisation kinds, roles and
 * purposes against records of each handling code, condition and grade. Each expectation is
 * written out by hand from the rules in DESIGN.md, not computed by the code under test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  AssociatePointerDocument,
  LocalAssociateDocument,
  RequestAssociateDetailsDocument,
  type McxClient,
  type McxGradingInput,
} from '@mcx/client';
import { keyResolverFromKeys, verifyRecord } from '@mcx/signing';

import { allEntries } from '../testkit/audit.js';
import { grade, MATRIX, MATRIX_EPISODE, RECORDS, REFUSED, type RecordName, type Requester } from '../testkit/disclosure-matrix.js';
import { episodeInput, localEpisode, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate } from '../testkit/records.js';

let t: TestNode;
let recordsSystem: Server;
let recordsSystemUp = true;
const ids = {} as Record<RecordName, string>;
const subjectRef = 'SUBJ-DISC-1';

function as(who: Requester): Promise<McxClient> {
  const roles = who.roles ?? ['investigator'];
  return t.as({
    roles,
    orgKind: who.orgKind,
    force: who.force,
    subject: `u-${who.name.replace(/\W+/g, '-')}`,
    kind: 'user',
    headers: { 'x-mcx-purpose': who.purpose, 'x-mcx-case-ref': 'CASE-26-4242' },
  });
}

beforeAll(async () => {
  // The force's own records system: the only place an associate's name is held.
  recordsSystem = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!recordsSystemUp) {
        res.statusCode = 503;
        res.end();
        return;
      }
      const { ownerReference } = JSON.parse(body) as { ownerReference: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ givenName: 'Zebedee', familyName: `Quillfeather-${ownerReference}` }));
    });
  });
  await new Promise<void>((r) => recordsSystem.listen(0, '127.0.0.1', r));
  const port = (recordsSystem.address() as AddressInfo).port;
  t = await startTestNode({ force: 'WMP', env: { MCX_ASSOCIATE_DETAILS_URL: `http://127.0.0.1:${port}/associates/name` } });
  for (const [name, grading] of Object.entries(RECORDS) as [RecordName, McxGradingInput | null][]) {
    const input = episodeInput({
      subjectRef,
      ...MATRIX_EPISODE,
      grading,
    });
    const { episode, errors } = await publishEpisode(t.client, input);
    expect(errors).toEqual([]);
    ids[name] = episode!.id;
  }
}, 60_000);

afterAll(async () => {
  await t?.close();
  await new Promise((r) => recordsSystem?.close(r));
});

describe('the disclosure matrix', () => {
  const verify = () => keyResolverFromKeys([t.keys.record]);

  for (const row of MATRIX) {
    it(`${row.who.name}: exactly the records and fields the policy allows`, async () => {
      const client = await as(row.who);
      for (const name of Object.keys(RECORDS) as RecordName[]) {
        const ep = await localEpisode(client, 'WMP', ids[name]);
        if (!row.sees.includes(name)) {
          expect(ep, `${name} must be withheld`).toBeNull();
          continue;
        }
        expect(ep, `${name} must be disclosed`).not.toBeNull();
        expect(ep!.assessment.indicators.slice().sort(), name).toEqual(row.sensitive ? ['CSE', 'DRUGS', 'SELF_HARM'] : ['DRUGS']);
        const exact = row.exactPlacement.includes(name);
        expect(ep!.missingFrom, name).toEqual({
          kind: 'FOSTER',
          location: exact
            ? { uprn: '100070000001', postcode: 'B15 2TT', lat: 52.45, lon: -1.93 }
            : { uprn: null, postcode: 'B15', lat: null, lon: null },
        });
        // The found place is not a placement: never coarsened.
        expect(ep!.foundPlace?.location?.postcode).toBe('B1 1AA');
        const changed = !row.sensitive || !exact;
        if (changed) {
          expect(ep!.disclosure).toEqual({
            policy: 'mcx-default-1',
            redacted: row.sensitive ? [] : ['assessment.indicators', 'facts.returnInterview.themes'],
            coarsened: exact ? [] : ['facts.missingFrom.location'],
          });
        } else {
          expect(ep!.disclosure).toBeNull();
        }
        // What leaves is signed by the owner either way, and the bytes say what was done.
        expect(verify()(JSON.parse(Buffer.from(ep!.recordSignature.split('.')[0]!, 'base64url').toString()).kid).found).toBe(true);
        expect(verifyRecord(ep!.recordBytes, ep!.recordSignature, verify())).toMatchObject({ valid: true });
        const signed = JSON.parse(ep!.recordBytes) as { assessment: { indicators: string[] }; disclosure?: unknown };
        expect(signed.assessment.indicators).toEqual(ep!.assessment.indicators);
        expect(signed.disclosure ?? null).toEqual(ep!.disclosure);
      }
      // The list gives the same records and counts what it left out.
      const list = await localEpisodes(client, { subjectRef });
      expect(list.nodes.map((n) => n.id).sort()).toEqual(row.sees.map((n) => ids[n]).sort());
      expect(list.withheld).toEqual({ restricted: 0, reviewOverdue: 0, notDisclosable: 6 - row.sees.length, integrityFault: 0 });
    });
  }

  for (const row of REFUSED) {
    it(`${row.who.name}: refused before any record is read`, async () => {
      const client = await as(row.who);
      await expectGraphQLError(localEpisode(client, 'WMP', ids.p), 'FORBIDDEN', row.reason);
    });
  }

  it('a police-only record never reaches a local authority or a provider: counted, and audited with its rule', async () => {
    for (const who of [MATRIX[3]!.who, MATRIX[5]!.who]) {
      const client = await as(who);
      expect(await localEpisode(client, 'WMP', ids.policeOnly)).toBeNull();
      expect((await localEpisodes(client, { subjectRef })).nodes.map((n) => n.id)).not.toContain(ids.policeOnly);
    }
    const auditor = await t.as({ roles: ['auditor'] });
    const entries = (await allEntries(auditor)).filter((e) => e.operation === 'localEpisode');
    const refusals = entries.filter((e) => e.queryRecordIds.includes(`WMP/${ids.policeOnly}`) && e.actor.orgKind !== 'police');
    expect(refusals.map((e) => [e.actor.orgKind, e.recordIds, e.reason])).toEqual(
      expect.arrayContaining([
        ['local_authority', [], 'NOT_DISCLOSABLE:CONDITION_POLICE_ONLY'],
        ['provider', [], 'NOT_DISCLOSABLE:CONDITION_POLICE_ONLY'],
      ]),
    );
    const gradeE = entries.find((e) => e.queryRecordIds.includes(`WMP/${ids.e}`) && e.actor.force === 'GMP');
    expect(gradeE).toMatchObject({ recordIds: [], reason: 'NOT_DISCLOSABLE:GRADE_E' });
  });
});

describe('the disclosure note says what the policy withholds, never whether there was anything to withhold', () => {
  it('an episode with sensitive indicators and a mental-health theme, and one with neither, carry the same note', async () => {
    const rhi = (themes: string[]) => ({
      offered: true,
      offeredAt: new Date(Date.now() - 24 * 3600_000).toISOString(),
      completedAt: new Date(Date.now() - 12 * 3600_000).toISOString(),
      themes,
    });
    const publish = async (over: Parameters<typeof episodeInput>[0]) => {
      const { episode, errors } = await publishEpisode(t.client, episodeInput({ subjectRef: 'SUBJ-DISC-NOTE', ...over }));
      expect(errors).toEqual([]);
      return episode!.id;
    };
    const withSensitive = await publish({
      missingFrom: { kind: 'FOSTER', location: { postcode: 'B15 2TT' } },
      assessment: { riskGrade: 'HIGH', indicators: ['SELF_HARM', 'DRUGS'], regrades: [] },
      returnInterview: rhi(['MENTAL_HEALTH', 'FAMILY_CONFLICT']) as never,
    });
    const without = await publish({
      missingFrom: { kind: 'FOSTER', location: null },
      assessment: { riskGrade: 'HIGH', indicators: ['DRUGS'], regrades: [] },
      returnInterview: rhi(['FAMILY_CONFLICT']) as never,
    });
    // A local authority reviewing repeat episodes: no sensitive indicators or themes, placements coarsened.
    const client = await as(MATRIX[4]!.who);
    const a = (await localEpisode(client, 'WMP', withSensitive))!;
    const b = (await localEpisode(client, 'WMP', without))!;
    expect(a.assessment.indicators).toEqual(['DRUGS']);
    expect(a.disclosure).toEqual({
      policy: 'mcx-default-1',
      redacted: ['assessment.indicators', 'facts.returnInterview.themes'],
      coarsened: ['facts.missingFrom.location'],
    });
    expect(b.disclosure).toEqual(a.disclosure);
    expect(JSON.parse(a.recordBytes).disclosure).toEqual(JSON.parse(b.recordBytes).disclosure);
  });
});

describe('associates go out as pointers; a name only on an audited request', () => {
  const gmpPolice: Requester = { name: 'gmp police', orgKind: 'police', force: 'GMP', purpose: 'MISSING_LIVE_SEARCH' };
  let adult: string;
  let child: string;
  let adultE: string;
  let adultC: string;

  beforeAll(async () => {
    const publish = async (over: Parameters<typeof associateInput>[0]) => {
      const { associate, errors } = await publishAssociate(t.client, associateInput(over));
      expect(errors).toEqual([]);
      return associate!.id;
    };
    adult = await publish({ ownerReference: 'ASC-ADULT-1', grading: grade('B', 'P') });
    child = await publish({
      ownerReference: 'ASC-CHILD-1',
      descriptors: { isChild: true, ageBand: 'AGE_13_15', sex: 'FEMALE' },
      flags: ['PEER_ALSO_MISSING'],
      grading: grade('B', 'P'),
    });
    adultE = await publish({ ownerReference: 'ASC-ADULT-E', grading: grade('E', 'P') });
    adultC = await publish({ ownerReference: 'ASC-ADULT-C', grading: grade('B', 'C', ['CONFIRM_WITH_OWNER']) });
  });

  it('another force gets an adult of concern as owner, grade, flags and reference, and a child as "peer also missing, held by WMP"', async () => {
    const client = await as(gmpPolice);
    const a = (await client.request(AssociatePointerDocument, { owner: 'WMP', id: adult })).associatePointer;
    expect(a).toMatchObject({
      owner: 'WMP',
      id: adult,
      kind: 'ADULT_OF_CONCERN',
      ownerReference: 'ASC-ADULT-1',
      flags: ['ADULT_OF_CONCERN'],
      grading: { intelligence: 'B', handling: 'P' },
    });
    const c = (await client.request(AssociatePointerDocument, { owner: 'WMP', id: child })).associatePointer;
    expect(c).toMatchObject({ owner: 'WMP', id: child, kind: 'CHILD', ownerReference: null, grading: null, flags: ['PEER_ALSO_MISSING'] });
    for (const p of [a!, c!]) {
      expect(verifyRecord(p.recordBytes, p.recordSignature, keyResolverFromKeys([t.keys.record]))).toMatchObject({ valid: true });
      const signed = JSON.parse(p.recordBytes) as Record<string, unknown>;
      expect(signed).not.toHaveProperty('descriptors');
      expect(signed.schema).toBe('mcx.associate-pointer/1');
    }
    // The whole record is for the owner's own readers only.
    expect((await client.request(LocalAssociateDocument, { owner: 'WMP', id: adult })).localAssociate).toBeNull();
    expect((await t.investigator.request(LocalAssociateDocument, { owner: 'WMP', id: adult })).localAssociate?.descriptors).toEqual({
      isChild: false,
      ageBand: 'AGE_25_PLUS',
      sex: 'MALE',
    });
    // Grade E does not leave the owner, even as a pointer.
    expect((await client.request(AssociatePointerDocument, { owner: 'WMP', id: adultE })).associatePointer).toBeNull();
  });

  it('requestAssociateDetails is refused outside its conditions, and every refusal is audited', async () => {
    const cases: [Requester, string, string][] = [
      [
        { ...gmpPolice, name: 'la', orgKind: 'local_authority', force: 'E08000025', purpose: 'SAFEGUARDING_STRATEGY' },
        adult,
        'DETAILS_ORG_KIND_NOT_PERMITTED',
      ],
      [{ ...gmpPolice, name: 'review', purpose: 'MISSING_REVIEW' }, adult, 'DETAILS_PURPOSE_NOT_PERMITTED'],
      [gmpPolice, adultE, 'NOT_DISCLOSABLE:GRADE_E'],
      [gmpPolice, adultC, 'DETAILS_HANDLING_NOT_PERMITTED'],
    ];
    for (const [who, id, reason] of cases) {
      const client = await as(who);
      await expectGraphQLError(client.request(RequestAssociateDetailsDocument, { owner: 'WMP', id }), 'FORBIDDEN', reason);
    }
    const auditor = await t.as({ roles: ['auditor'] });
    const entries = (await allEntries(auditor)).filter((e) => e.operation === 'requestAssociateDetails' && e.outcome === 'REFUSED');
    expect(entries.map((e) => e.reason).sort()).toEqual(cases.map((c) => c[2]).sort());
    expect(entries.every((e) => e.action === 'DISCLOSURE' && e.recordIds.length === 0 && e.caseRef === 'CASE-26-4242')).toBe(true);
  });

  it('police, handling P, not grade E: the name comes from the records system, audited as its own disclosure, never logged', async () => {
    const client = await as(gmpPolice);
    const details = (await client.request(RequestAssociateDetailsDocument, { owner: 'WMP', id: adult })).requestAssociateDetails;
    expect(details).toEqual({ owner: 'WMP', id: adult, givenName: 'Zebedee', familyName: 'Quillfeather-ASC-ADULT-1' });
    const auditor = await t.as({ roles: ['auditor'] });
    const released = (await allEntries(auditor))
      .filter((e) => e.operation === 'requestAssociateDetails')
      .filter((e) => e.outcome === 'SUCCESS');
    expect(released).toEqual([
      expect.objectContaining({
        action: 'DISCLOSURE',
        recordIds: [`WMP/${adult}`],
        reason: 'ASSOCIATE_NAME_RELEASED',
        purpose: 'MISSING_LIVE_SEARCH',
        actor: expect.objectContaining({ force: 'GMP', orgKind: 'police' }),
      }),
    ]);
    expect(t.logs()).not.toContain('Zebedee');
    expect(t.logs()).not.toContain('Quillfeather');
  });

  it("another force's associate: never asked between nodes, the owner is named instead", async () => {
    const client = await as(gmpPolice);
    const err = await expectGraphQLError(
      client.request(RequestAssociateDetailsDocument, { owner: 'GMP', id: adult }),
      'NOT_FOUND',
      'DETAILS_OWNER_REMOTE',
    );
    expect(err.message).toMatch(/ask GMP/);
  });

  it('a records system that is down gives a clear error, audited, and no name', async () => {
    recordsSystemUp = false;
    try {
      const client = await as(gmpPolice);
      await expectGraphQLError(
        client.request(RequestAssociateDetailsDocument, { owner: 'WMP', id: adult }),
        'SERVICE_UNAVAILABLE',
        'DETAILS_SOURCE_UNAVAILABLE',
      );
      const auditor = await t.as({ roles: ['auditor'] });
      const errored = (await allEntries(auditor))
        .filter((e) => e.operation === 'requestAssociateDetails')
        .filter((e) => e.outcome === 'ERROR');
      expect(errored.map((e) => e.reason)).toEqual(['DETAILS_SOURCE_UNAVAILABLE']);
    } finally {
      recordsSystemUp = true;
    }
  });
});
