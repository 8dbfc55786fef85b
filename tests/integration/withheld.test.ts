import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalAssociateDocument, ReviewRecordDocument } from '@mcx/client';

import { allEntries } from '../testkit/audit.js';
import { episodeInput, localEpisode, localEpisodes, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate, restrictRecord, unrestrictRecord } from '../testkit/records.js';

const DAY = 86400_000;
let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP' });
});
afterAll(() => t?.close());

describe('what readers never see, and how it is counted', () => {
  it('a restricted record is withheld from readers until unrestricted, and the read is audited with the reason', async () => {
    const input = associateInput();
    await publishAssociate(t.client, input);
    await restrictRecord(t.client, 'ASSOCIATE', input.id!);
    const hidden = await t.investigator.request(LocalAssociateDocument, { owner: 'WMP', id: input.id! });
    expect(hidden.localAssociate).toBeNull();
    const entries = await allEntries(await t.as({ roles: ['auditor'], subject: 'dpo-1' }), { actorSubject: 'test-investigator' });
    expect(entries.at(-1)).toMatchObject({ operation: 'localAssociate', recordIds: [], reason: 'RESTRICTED' });
    await unrestrictRecord(t.client, 'ASSOCIATE', input.id!);
    expect((await t.investigator.request(LocalAssociateDocument, { owner: 'WMP', id: input.id! })).localAssociate?.id).toBe(input.id);
  });

  it('lists leave out restricted and review-overdue records and count them', async () => {
    const soon = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const due = episodeInput({ subjectRef: 'SUBJ-W', reviewAt: soon });
    const kept = episodeInput({ subjectRef: 'SUBJ-W' });
    const disputed = episodeInput({ subjectRef: 'SUBJ-W' });
    for (const e of [due, kept, disputed]) expect((await publishEpisode(t.client, e)).errors).toEqual([]);
    await restrictRecord(t.client, 'EPISODE', disputed.id!);
    const today = await localEpisodes(t.investigator, { subjectRef: 'SUBJ-W' });
    expect(today.nodes.map((n) => n.id).sort()).toEqual([due.id, kept.id].sort());
    expect(today.withheld).toEqual({ restricted: 1, reviewOverdue: 0, notDisclosable: 0, integrityFault: 0 });

    // Three days on, the first is past its review date: withheld and counted until reviewed.
    const later = await startTestNode({
      force: 'WMP',
      databaseUrl: t.databaseUrl,
      keys: t.keys,
      issuer: t.issuer,
      now: () => new Date(Date.now() + 3 * DAY),
    });
    try {
      const after = await localEpisodes(later.investigator, { subjectRef: 'SUBJ-W' });
      expect(after.nodes.map((n) => n.id)).toEqual([kept.id]);
      expect(after.withheld).toEqual({ restricted: 1, reviewOverdue: 1, notDisclosable: 0, integrityFault: 0 });
      expect(await localEpisode(later.investigator, 'WMP', due.id!)).toBeNull();
      // The owner's publisher reviews it: the same content, a new version, a new review date.
      const newDate = new Date(Date.now() + 400 * DAY).toISOString().slice(0, 10);
      const { reviewRecord } = await later.client.request(ReviewRecordDocument, {
        kind: 'EPISODE',
        id: due.id!,
        version: 2,
        reviewAt: newDate,
      });
      expect(reviewRecord.errors).toEqual([]);
      const back = await localEpisode(later.investigator, 'WMP', due.id!);
      expect(back).toMatchObject({ version: 2, reviewAt: newDate, assessment: { riskGrade: 'MEDIUM' } });
      const { reviewRecord: past } = await later.client.request(ReviewRecordDocument, {
        kind: 'EPISODE',
        id: due.id!,
        version: 3,
        reviewAt: '2020-01-01',
      });
      expect(past.errors).toEqual([expect.objectContaining({ field: 'reviewAt', code: 'OUT_OF_RANGE' })]);
    } finally {
      await later.close();
    }
  });
});
