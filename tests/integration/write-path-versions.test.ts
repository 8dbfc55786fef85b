import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AmendEpisodeDocument, CloseEpisodeDocument, createClient, PublishEpisodesDocument } from '@mcx/client';

import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate, restrictRecord, retractRecord, storedCounter, unrestrictRecord } from '../testkit/records.js';

let t: TestNode;
let counter: ReturnType<typeof storedCounter>;
beforeAll(async () => {
  t = await startTestNode({ force: 'GMP' });
  counter = storedCounter(t.databaseUrl);
});
afterAll(async () => {
  await counter?.close();
  await t?.close();
});

describe('version and idempotency rules', () => {
  it('same owner + id + version + content: success, stored once', async () => {
    const input = episodeInput();
    const first = await publishEpisode(t.client, input);
    const again = await publishEpisode(t.client, input);
    expect(first.errors).toEqual([]);
    expect(again.errors).toEqual([]);
    expect(again.episode?.recordBytes).toBe(first.episode?.recordBytes);
    expect(await counter.versions(input.id!)).toBe(1);
  });

  it('same owner + id + version, different content: CONFLICT', async () => {
    const input = episodeInput();
    await publishEpisode(t.client, input);
    const changed = await publishEpisode(t.client, { ...input, assessment: { riskGrade: 'HIGH', indicators: [] } });
    expect(changed.episode).toBeNull();
    expect(changed.errors).toEqual([expect.objectContaining({ field: 'version', code: 'CONFLICT' })]);
    expect(await counter.versions(input.id!)).toBe(1);
  });

  it('a version at or below the current one: STALE_VERSION', async () => {
    const input = episodeInput({ version: 3 });
    await publishEpisode(t.client, input);
    for (const version of [1, 2]) {
      const stale = await publishEpisode(t.client, { ...input, version, ownerReference: 'MIS-OTHER' });
      expect(stale.errors).toEqual([expect.objectContaining({ field: 'version', code: 'STALE_VERSION' })]);
    }
    expect(await counter.versions(input.id!)).toBe(1);
  });

  it('a client that retries a batch after a timeout gets every record stored exactly once', async () => {
    const inputs = Array.from({ length: 1000 }, () => episodeInput());
    const ids = inputs.map((i) => i.id!);
    const impatient = createClient({ url: t.node.url, timeoutMs: 30 });
    await expect(impatient.request(PublishEpisodesDocument, { inputs })).rejects.toThrow();
    // The abandoned request may still commit on the server: wait until the count settles.
    let settled = -1;
    for (let n = await counter.versionsOf(ids); n !== settled; n = await counter.versionsOf(ids)) {
      settled = n;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect([0, 1000]).toContain(settled);
    const { publishEpisodes } = await t.client.request(PublishEpisodesDocument, { inputs });
    expect(publishEpisodes.errors).toEqual([]);
    expect(publishEpisodes.episodes).toHaveLength(1000);
    const { publishEpisodes: third } = await t.client.request(PublishEpisodesDocument, { inputs });
    expect(third.errors).toEqual([]);
    expect(await counter.versionsOf(ids)).toBe(1000);
    expect(new Set(publishEpisodes.episodes.map((e) => e.id)).size).toBe(1000);
  });
});

describe('life cycle', () => {
  it('amend stores a new version; amending an unknown record is NOT_FOUND', async () => {
    const input = episodeInput({ status: 'OPEN', foundAt: null, foundPlace: null });
    await publishEpisode(t.client, input);
    const { amendEpisode } = await t.client.request(AmendEpisodeDocument, {
      input: { ...input, version: 2, assessment: { riskGrade: 'HIGH', indicators: ['CCE_COUNTY_LINES'] } },
    });
    expect(amendEpisode.errors).toEqual([]);
    expect(amendEpisode.episode).toMatchObject({ version: 2, assessment: { riskGrade: 'HIGH', indicators: ['CCE_COUNTY_LINES'] } });
    const { amendEpisode: unknown } = await t.client.request(AmendEpisodeDocument, { input: episodeInput() });
    expect(unknown.errors).toEqual([expect.objectContaining({ field: 'id', code: 'NOT_FOUND' })]);
  });

  it('close turns an OPEN episode CLOSED as a new version, keeping everything else', async () => {
    const open = episodeInput({ status: 'OPEN', foundAt: null, foundPlace: null });
    await publishEpisode(t.client, open);
    const foundAt = new Date(Date.parse(open.reportedAt!) + 6 * 3600_000).toISOString();
    const close = {
      id: open.id,
      version: 2,
      foundAt,
      foundBy: 'POLICE' as const,
      foundPlace: { kind: 'OTHER' as const, location: { postcode: 'M1 1AE' } },
    };
    const { closeEpisode } = await t.client.request(CloseEpisodeDocument, { input: close });
    expect(closeEpisode.errors).toEqual([]);
    expect(closeEpisode.episode).toMatchObject({
      version: 2,
      status: 'CLOSED',
      foundAt,
      ownerReference: open.ownerReference,
      missingFrom: open.missingFrom,
    });
    const { closeEpisode: again } = await t.client.request(CloseEpisodeDocument, { input: close });
    expect(again.errors).toEqual([]);
    expect(await counter.versions(open.id!)).toBe(2);
    const { closeEpisode: early } = await t.client.request(CloseEpisodeDocument, {
      input: { ...close, version: 3, foundAt: new Date(Date.parse(open.lastSeenAt!) - 3600_000).toISOString() },
    });
    expect(early.errors).toEqual([expect.objectContaining({ field: 'lastSeenAt', code: 'TIME_ORDER' })]);
  });

  it('restrict withholds until unrestricted, and survives an amendment', async () => {
    const input = associateInput();
    await publishAssociate(t.client, input);
    const restricted = await restrictRecord(t.client, 'ASSOCIATE', input.id!);
    expect(restricted.record).toMatchObject({ state: 'RESTRICTED', version: 1, restrictionReason: 'ACCURACY_CONTESTED' });
    expect((await restrictRecord(t.client, 'ASSOCIATE', input.id!)).record?.state).toBe('RESTRICTED');
    const amended = await publishAssociate(t.client, { ...input, version: 2, flags: ['ADULT_OF_CONCERN', 'SUSPECTED_EXPLOITER'] });
    expect(amended.associate?.state).toBe('RESTRICTED');
    expect((await unrestrictRecord(t.client, 'ASSOCIATE', input.id!)).record).toMatchObject({
      state: 'ACTIVE',
      version: 2,
      restrictionReason: null,
    });
    expect((await restrictRecord(t.client, 'EPISODE', input.id!)).errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
  });

  it('retract leaves a signed tombstone with no content; readers honour it; it cannot be amended', async () => {
    const input = episodeInput({ subjectRef: 'SUBJ-RETRACT' });
    await publishEpisode(t.client, input);
    const retracted = await retractRecord(t.client, 'EPISODE', input.id!, 2, 'CREATED_IN_ERROR');
    expect(retracted.errors).toEqual([]);
    expect(retracted.record).toMatchObject({ state: 'RETRACTED', version: 2 });
    const tombstone = JSON.parse(retracted.record!.recordBytes);
    expect(tombstone).toEqual({
      schema: 'mcx.tombstone/1',
      kind: 'episode',
      owner: 'GMP',
      id: input.id,
      version: 2,
      state: 'RETRACTED',
      marking: 'OFFICIAL-SENSITIVE',
      reason: 'CREATED_IN_ERROR',
      publishedAt: expect.any(String),
    });
    expect(await localEpisode(t.investigator, 'GMP', input.id!)).toBeNull();
    const amend = await publishEpisode(t.client, { ...input, version: 3 });
    expect(amend.errors).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
    expect((await retractRecord(t.client, 'EPISODE', input.id!, 3)).record).toMatchObject({ state: 'RETRACTED', version: 2 });
    expect((await restrictRecord(t.client, 'EPISODE', input.id!)).errors).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
  });
});
