import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { episodeInput, localEpisode, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
});
afterAll(() => t?.close());

describe('the episode slice', () => {
  it('publishes an episode and reads it back, byte for byte', async () => {
    const input = episodeInput({ subjectRef: 'SUBJ-A' });
    const published = await publishEpisode(t.client, input);
    expect(published.errors).toEqual([]);
    expect(published.episode).toMatchObject({
      owner: 'WMP',
      id: input.id,
      version: 1,
      status: 'CLOSED',
      state: 'ACTIVE',
      marking: 'OFFICIAL-SENSITIVE',
    });

    const read = await localEpisode(t.investigator, 'WMP', input.id!);
    expect(read?.recordBytes).toBe(published.episode!.recordBytes);
    expect(read?.assessment).toEqual({ riskGrade: 'MEDIUM', regrades: [], indicators: ['CSE'] });
    expect(read?.foundPlace?.location).toEqual({ uprn: null, postcode: 'B1 1AA', lat: 52.4796, lon: -1.9026 });
    expect(JSON.parse(read!.recordBytes)).toMatchObject({
      kind: 'episode',
      facts: { status: 'CLOSED' },
      assessment: { riskGrade: 'MEDIUM' },
    });
  });

  it('lists episodes for a subject newest first, page by page', async () => {
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const input = episodeInput({ subjectRef: 'SUBJ-PAGES' }, new Date(now - i * 86400_000));
      ids.push(input.id!);
      expect((await publishEpisode(t.client, input)).errors).toEqual([]);
    }
    const first = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-PAGES', first: 2 });
    expect(first.nodes.map((n) => n.id)).toEqual(ids.slice(0, 2));
    const second = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-PAGES', first: 2, after: first.nextCursor! });
    expect(second.nodes.map((n) => n.id)).toEqual(ids.slice(2, 4));
    const third = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-PAGES', first: 2, after: second.nextCursor! });
    expect(third.nodes.map((n) => n.id)).toEqual(ids.slice(4));
    expect(third.nextCursor).toBeNull();
  });

  it('returns input errors as data, per field, and stores nothing', async () => {
    const good = episodeInput();
    const input = episodeInput({ subjectRef: 'SUBJ-BAD', reportedAt: null, lastSeenAt: good.foundAt, foundAt: good.lastSeenAt });
    const result = await publishEpisode(t.client, input);
    expect(result.episode).toBeNull();
    expect(result.errors).toEqual([
      { field: 'reportedAt', code: 'REQUIRED', message: 'reportedAt is required', index: null },
      { field: 'lastSeenAt', code: 'TIME_ORDER', message: 'lastSeenAt is after foundAt', index: null },
    ]);
    expect((await localEpisodes(t.investigator, { subjectRef: 'SUBJ-BAD' })).nodes).toEqual([]);
  });

  it('refuses a page size out of range and a forged cursor with BAD_USER_INPUT', async () => {
    const big = await t.investigator.raw((await import('@mcx/client')).LocalEpisodesDocument, { first: 1000 });
    expect(big.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const forged = await t.investigator.raw((await import('@mcx/client')).LocalEpisodesDocument, { first: 5, after: 'not-a-cursor' });
    expect(forged.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('serves /healthz and /readyz with migrations current', async () => {
    expect(await (await fetch(`${t.node.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.node.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, database: 'reachable' });
  });

  it('keeps published episodes across a restart of the node', async () => {
    const input = episodeInput({ subjectRef: 'SUBJ-RESTART' });
    expect((await publishEpisode(t.client, input)).errors).toEqual([]);
    await t.close();
    t = await startTestNode({ force: 'WMP', databaseUrl: t.databaseUrl, keys: t.keys });
    expect((await localEpisode(t.investigator, 'WMP', input.id!))?.id).toBe(input.id);
  });
});
