import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PublishAssociatesDocument, PublishEpisodesDocument, type MissingEpisodeInput } from '@mcx/client';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { expectGraphQLError } from '../testkit/graphql.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, locationInput, publishAssociate, publishLocation, storedCounter } from '../testkit/records.js';

let t: TestNode;
let counter: ReturnType<typeof storedCounter>;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
  counter = storedCounter(t.databaseUrl);
});
afterAll(async () => {
  await counter?.close();
  await t?.close();
});

const HOUR = 3600_000;
const future = (h: number) => new Date(Date.now() + h * HOUR).toISOString();
const base = episodeInput();
const at = (iso: string, h: number) => new Date(Date.parse(iso) + h * HOUR).toISOString();

type Case = [label: string, overrides: Partial<MissingEpisodeInput>, field: string, code: string];

const EPISODE_CASES: Case[] = [
  ['missing id', { id: null }, 'id', 'REQUIRED'],
  ['missing version', { version: null }, 'version', 'REQUIRED'],
  ['missing ownerReference', { ownerReference: null }, 'ownerReference', 'REQUIRED'],
  ['missing subjectRef', { subjectRef: null }, 'subjectRef', 'REQUIRED'],
  [
    'no reviewAt, and the default (reportedAt + 730 days) already past',
    { reviewAt: null, reportedAt: '2020-01-02T10:00:00Z', lastSeenAt: '2020-01-02T08:00:00Z', foundAt: '2020-01-03T08:00:00Z' },
    'reviewAt',
    'OUT_OF_RANGE',
  ],
  ['missing status', { status: null }, 'status', 'REQUIRED'],
  ['missing reportedAt', { reportedAt: null }, 'reportedAt', 'REQUIRED'],
  ['missing lastSeenAt', { lastSeenAt: null }, 'lastSeenAt', 'REQUIRED'],
  ['missing missingFrom', { missingFrom: null }, 'missingFrom', 'REQUIRED'],
  ['missing missingFrom.kind', { missingFrom: { location: { postcode: 'B1 1AA' } } }, 'missingFrom.kind', 'REQUIRED'],
  ['missing careStatus', { careStatus: null }, 'careStatus', 'REQUIRED'],
  ['missing assessment', { assessment: null }, 'assessment', 'REQUIRED'],
  ['missing riskGrade', { assessment: { indicators: [] } }, 'assessment.riskGrade', 'REQUIRED'],
  ['CLOSED without foundAt', { foundAt: null }, 'foundAt', 'REQUIRED'],
  [
    'missing associate role',
    { associates: [{ associateId: '7d3f1c1e-1f0a-4c55-9a7e-0b8d2f7a1c01', dataSubjectCategory: 'VICTIM' }] },
    'associates.0.role',
    'REQUIRED',
  ],
  ['RHI offered without offeredAt', { returnInterview: { offered: true } }, 'returnInterview.offeredAt', 'REQUIRED'],
  ['lastSeenAt after reportedAt', { lastSeenAt: at(base.reportedAt!, 1), foundAt: at(base.reportedAt!, 5) }, 'lastSeenAt', 'TIME_ORDER'],
  ['lastSeenAt after foundAt', { lastSeenAt: at(base.foundAt!, 1), reportedAt: at(base.foundAt!, 2) }, 'lastSeenAt', 'TIME_ORDER'],
  ['reportedAt in the future', { reportedAt: future(2) }, 'reportedAt', 'IN_FUTURE'],
  ['foundAt in the future', { foundAt: future(2) }, 'foundAt', 'IN_FUTURE'],
  ['lastSeenAt in the future', { lastSeenAt: future(3), reportedAt: future(4) }, 'lastSeenAt', 'IN_FUTURE'],
  [
    'RHI offered before the child was found',
    { returnInterview: { offered: true, offeredAt: at(base.foundAt!, -1) } },
    'returnInterview.offeredAt',
    'TIME_ORDER',
  ],
  [
    'RHI completed before it was offered',
    { returnInterview: { offered: true, offeredAt: at(base.foundAt!, 5), completedAt: at(base.foundAt!, 4) } },
    'returnInterview.completedAt',
    'TIME_ORDER',
  ],
  ['OPEN with foundAt', { status: 'OPEN', foundPlace: null }, 'foundAt', 'INVALID_STATE'],
  ['id not a UUID', { id: 'episode-1' }, 'id', 'INVALID_FORMAT'],
  ['version 0', { version: 0 }, 'version', 'OUT_OF_RANGE'],
  ['a name typed as a subject reference', { subjectRef: 'Olivia Hart' }, 'subjectRef', 'INVALID_FORMAT'],
  ['an over-long owner reference', { ownerReference: 'X'.repeat(41) }, 'ownerReference', 'TOO_LONG'],
  ['reviewAt in the past', { reviewAt: '2020-01-01' }, 'reviewAt', 'OUT_OF_RANGE'],
  [
    'a bad postcode',
    { missingFrom: { kind: 'FOSTER', location: { postcode: 'NOT A PC' } } },
    'missingFrom.location.postcode',
    'INVALID_FORMAT',
  ],
  ['latitude without longitude', { foundPlace: { kind: 'OTHER', location: { lat: 52.1 } } }, 'foundPlace.location.lon', 'REQUIRED'],
  ['latitude out of range', { foundPlace: { kind: 'OTHER', location: { lat: 95, lon: 1 } } }, 'foundPlace.location.lat', 'OUT_OF_RANGE'],
  [
    'an invalid grading code',
    { grading: { scheme: '3x5x2', source: '4', intelligence: 'B', handling: 'P' } },
    'grading.source',
    'UNKNOWN_CODE',
  ],
  ['a 5x5x5 grading', { grading: { scheme: '5x5x5', source: '1', intelligence: 'B', handling: 'P' } }, 'grading.scheme', 'UNKNOWN_CODE'],
  [
    'handling C without conditions',
    { grading: { scheme: '3x5x2', source: '1', intelligence: 'B', handling: 'C' } },
    'grading.conditions',
    'REQUIRED',
  ],
  [
    'an unknown force code on an associate',
    {
      associates: [
        { owner: 'XXPOL', associateId: '7d3f1c1e-1f0a-4c55-9a7e-0b8d2f7a1c01', role: 'FOUND_WITH', dataSubjectCategory: 'OTHER' },
      ],
    },
    'associates.0.owner',
    'UNKNOWN_CODE',
  ],
  ['an unknown placing authority', { placingAuthority: 'LANOWHERE' }, 'placingAuthority', 'UNKNOWN_CODE'],
  [
    'a role name in place of a role code',
    { assessment: { riskGrade: 'HIGH', regrades: [{ grade: 'HIGH', at: base.reportedAt, byRole: 'Sgt Smith' }] } },
    'assessment.regrades.0.byRole',
    'INVALID_FORMAT',
  ],
];

describe('every mistake a force system can make gets its own answer, and nothing is stored', () => {
  it.each(EPISODE_CASES)('episode: %s -> %s %s', async (_label, overrides, field, code) => {
    const before = await counter.versions();
    const input = episodeInput(overrides);
    const result = await publishEpisode(t.client, input);
    expect(result.episode).toBeNull();
    expect(result.errors).toContainEqual(expect.objectContaining({ field, code }));
    expect(await counter.versions()).toBe(before);
  });

  it.each([
    ['missing descriptors', { descriptors: null }, 'descriptors', 'REQUIRED'],
    ['missing reviewAt (an associate has no date to count a default from)', { reviewAt: null }, 'reviewAt', 'REQUIRED'],
    ['missing grading', { grading: null }, 'grading', 'REQUIRED'],
    [
      'intelligence F',
      { grading: { scheme: '3x5x2', source: '1', intelligence: 'F', handling: 'P' } },
      'grading.intelligence',
      'UNKNOWN_CODE',
    ],
    ['handling X', { grading: { scheme: '3x5x2', source: '1', intelligence: 'A', handling: 'X' } }, 'grading.handling', 'UNKNOWN_CODE'],
    [
      'a child flagged adult of concern',
      { descriptors: { isChild: true, ageBand: 'AGE_13_15', sex: 'FEMALE' }, flags: ['ADULT_OF_CONCERN'] },
      'flags',
      'INVALID_STATE',
    ],
  ] as const)('associate: %s -> %s %s', async (_label, overrides, field, code) => {
    const before = await counter.versions();
    const result = await publishAssociate(t.client, associateInput(overrides as never));
    expect(result.associate).toBeNull();
    expect(result.errors).toContainEqual(expect.objectContaining({ field, code }));
    expect(await counter.versions()).toBe(before);
  });

  it.each([
    ['missing location', { location: null }, 'location', 'REQUIRED'],
    ['an empty location', { location: {} }, 'location.postcode', 'REQUIRED'],
    ['missing placeKind', { placeKind: null }, 'placeKind', 'REQUIRED'],
    ['no concerns', { concerns: [] }, 'concerns', 'REQUIRED'],
    [
      'first report after last',
      { firstReportedAt: new Date().toISOString(), lastReportedAt: new Date(Date.now() - 86400_000).toISOString() },
      'firstReportedAt',
      'TIME_ORDER',
    ],
    ['last report in the future', { lastReportedAt: future(5) }, 'lastReportedAt', 'IN_FUTURE'],
  ] as const)('location of concern: %s -> %s %s', async (_label, overrides, field, code) => {
    const before = await counter.versions();
    const result = await publishLocation(t.client, locationInput(overrides as never));
    expect(result.locationOfConcern).toBeNull();
    expect(result.errors).toContainEqual(expect.objectContaining({ field, code }));
    expect(await counter.versions()).toBe(before);
  });

  it('with no reviewAt, an episode is kept for the configured period from its report (730 days by default)', async () => {
    const input = episodeInput({ reviewAt: null });
    const { episode, errors } = await publishEpisode(t.client, input);
    expect(errors).toEqual([]);
    const expected = new Date(Date.parse(input.reportedAt!) + 730 * 86400_000).toISOString().slice(0, 10);
    expect(episode?.reviewAt).toBe(expected);
    expect((await publishEpisode(t.client, input)).episode?.recordBytes).toBe(episode?.recordBytes);
  });

  it('an unknown enum value is a GraphQL validation error (BAD_USER_INPUT), not data', async () => {
    const before = await counter.versions();
    const res = await t.client.raw(PublishEpisodesDocument, { inputs: [{ ...episodeInput(), status: 'MISSING' as never }] });
    expect(res.status).toBe(400);
    await expectGraphQLError(res, 'BAD_USER_INPUT');
    expect(res.data).toBeNull();
    expect(await counter.versions()).toBe(before);
  });

  it('a 10 MB string is refused before parsing with PAYLOAD_TOO_LARGE', async () => {
    const before = await counter.versions();
    const res = await t.client.raw(PublishEpisodesDocument, {
      inputs: [{ ...episodeInput(), ownerReference: 'A'.repeat(10 * 1024 * 1024) }],
    });
    expect(res.status).toBe(413);
    await expectGraphQLError(res, 'PAYLOAD_TOO_LARGE');
    expect(await counter.versions()).toBe(before);
  });

  it('a batch of 1,001 is refused whole with TOO_MANY', async () => {
    const before = await counter.versions();
    const inputs = Array.from({ length: 1001 }, () => episodeInput());
    const { publishEpisodes } = await t.client.request(PublishEpisodesDocument, { inputs });
    expect(publishEpisodes.episodes).toEqual([]);
    expect(publishEpisodes.errors).toEqual([expect.objectContaining({ field: 'inputs', code: 'TOO_MANY' })]);
    expect(await counter.versions()).toBe(before);
  });

  it('a duplicate id in a batch is refused with the index of the repeat, and nothing is stored', async () => {
    const before = await counter.versions();
    const a = episodeInput();
    const inputs = [a, episodeInput(), { ...episodeInput(), id: a.id }];
    const { publishEpisodes } = await t.client.request(PublishEpisodesDocument, { inputs });
    expect(publishEpisodes.errors).toEqual([expect.objectContaining({ field: 'id', code: 'DUPLICATE_ID', index: 2 })]);
    expect(await counter.versions()).toBe(before);
  });

  it('one bad record in a batch stores none of it, and the error names its index', async () => {
    const before = await counter.versions();
    const inputs = [
      associateInput(),
      associateInput(),
      associateInput({ grading: { scheme: '3x5x2', source: '9', intelligence: 'A', handling: 'P' } }),
    ];
    const { publishAssociates } = await t.client.request(PublishAssociatesDocument, { inputs });
    expect(publishAssociates.associates).toEqual([]);
    expect(publishAssociates.errors).toEqual([expect.objectContaining({ field: 'grading.source', code: 'UNKNOWN_CODE', index: 2 })]);
    expect(await counter.versions()).toBe(before);
  });
});
