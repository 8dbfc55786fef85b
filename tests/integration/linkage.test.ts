import { gql } from 'graphql-tag';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { McxClient } from '@mcx/client';

import { allEntries } from '../testkit/audit.js';
import { createFederation, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { associateInput, publishAssociate, retractRecord } from '../testkit/records.js';

const PUBLISH_SUBJECT = gql`
  mutation P($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      subject {
        owner
        subjectRef
        keyKinds
        keyVersion
      }
      errors {
        field
        code
        message
      }
    }
  }
`;
const MATCH = gql`
  query M($identity: McxChildIdentityInput!) {
    matchSubjects(identity: $identity) {
      owner
      subjectRef
      strength
      matchedKinds
      conflicts
    }
  }
`;

let fed: TestFederation;
let t: TestNode;
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

async function publishSubject(client: McxClient, input: Record<string, unknown>) {
  return (
    (await client.request(PUBLISH_SUBJECT as never, { input } as never)) as {
      publishSubject: { subject: { keyKinds: string[] } | null; errors: { field: string; code: string; message: string }[] };
    }
  ).publishSubject;
}
async function match(client: McxClient, identity: Record<string, unknown>) {
  return (
    (await client.request(MATCH as never, { identity } as never)) as {
      matchSubjects: { subjectRef: string; strength: string; matchedKinds: string[]; conflicts: string[] }[];
    }
  ).matchSubjects;
}

beforeAll(async () => {
  fed = await createFederation(['WMP', 'GMP']);
  t = await startTestNode({ force: 'WMP', keys: fed.keys.WMP!, env: fed.nodeEnv('WMP') });
});
afterAll(async () => {
  await t?.close();
  await fed?.close();
});

describe('subjects through the real linkage service', () => {
  it('a subject is stored as linkage keys only, and found again by a re-recorded identity', async () => {
    const published = await publishSubject(t.client, {
      subjectRef: 'SUBJ-L1',
      reviewAt,
      identity: { forename: 'Rosalind', surname: 'Quennell', dob: '2011-04-09', sex: 'FEMALE', nhsNumber: '9990001413' },
    });
    expect(published.errors).toEqual([]);
    expect(published.subject?.keyKinds).toEqual(expect.arrayContaining(['nhs', 'name_dob', 'surname_dob_sex', 'forename_dob_sex']));
    await publishSubject(t.client, {
      subjectRef: 'SUBJ-L2',
      reviewAt,
      identity: { forename: 'Rosalind', surname: 'Quennell', dob: '2012-07-21', sex: 'FEMALE' },
    });

    const strong = await match(t.investigator, { forename: 'ROSALIND', surname: 'quennell', dob: '2011-04-09', sex: 'FEMALE' });
    expect(strong.map((m) => [m.subjectRef, m.strength])).toEqual([['SUBJ-L1', 'STRONG']]);
    const byNhs = await match(t.investigator, { nhsNumber: '999 000 1413' });
    expect(byNhs).toEqual([{ subjectRef: 'SUBJ-L1', strength: 'STRONG', matchedKinds: ['nhs'], conflicts: [], owner: 'WMP' }]);
    const surnameChange = await match(t.investigator, { forename: 'Rosalind', surname: 'Ashworth', dob: '2011-04-09', sex: 'FEMALE' });
    expect(surnameChange.map((m) => [m.subjectRef, m.strength])).toEqual([['SUBJ-L1', 'POSSIBLE']]);
    const conflict = await match(t.investigator, {
      forename: 'Rosalind',
      surname: 'Quennell',
      dob: '2011-04-09',
      sex: 'FEMALE',
      nhsNumber: '9990001421',
    });
    expect(conflict[0]).toMatchObject({ subjectRef: 'SUBJ-L1', strength: 'STRONG', conflicts: ['nhs'] });
    expect(await match(t.investigator, { forename: 'Benedict', surname: 'Quennell', dob: '2011-04-09', sex: 'MALE' })).toEqual([]);
  });

  it('a match is audited with a keyed digest of the keys, never the keys or the identity', async () => {
    await match(t.investigator, { forename: 'Rosalind', surname: 'Quennell', dob: '2011-04-09', sex: 'FEMALE' });
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    const entries = await allEntries(auditor, { actorSubject: 'test-investigator' });
    const last = entries.filter((e) => e.operation === 'matchSubjects').at(-1)!;
    expect(last.recordIds).toEqual(['WMP/SUBJ-L1']);
    expect(JSON.stringify(entries)).not.toMatch(/Rosalind|Quennell|2011-04-09/i);
  });

  it('bad identity gets field errors that never repeat the value, and nothing is stored', async () => {
    const r = await publishSubject(t.client, {
      subjectRef: 'SUBJ-BAD',
      reviewAt,
      identity: { forename: 'Perpetua', nhsNumber: '9990001415', dob: '2031-01-01' },
    });
    expect(r.subject).toBeNull();
    expect(r.errors.map((e) => [e.field, e.code])).toEqual([
      ['identity.dob', 'INVALID_FORMAT'],
      ['identity.nhsNumber', 'INVALID_FORMAT'],
    ]);
    expect(JSON.stringify(r)).not.toMatch(/Perpetua|9990001415|2031/);
    expect(await match(t.investigator, { forename: 'Perpetua', surname: 'X', dob: '2010-01-01' })).toEqual([]);
  });

  it('an associate published with identity gets linkage keys kept apart; its signed record holds no identity', async () => {
    const input = associateInput({
      identity: { forename: 'Lucius', surname: 'Fairweather', phone: '07700 900461', vehicleReg: 'AB12 CDE' },
    } as never);
    const published = await publishAssociate(t.client, input);
    expect(published.errors).toEqual([]);
    expect(published.associate!.recordBytes).not.toMatch(/Lucius|Fairweather|7700|AB12/i);
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const kinds = await sql<
      { key_kind: string }[]
    >`select distinct key_kind from linkage_keys where holder_kind = 'associate' and holder = ${input.id!} order by 1`;
    await sql.end();
    expect(kinds.map((k) => k.key_kind)).toEqual(expect.arrayContaining(['phone', 'vreg']));

    // Retracting the associate erases its keys with the tombstone.
    expect((await retractRecord(t.client, 'ASSOCIATE', input.id!, 2, 'ERASURE_REQUEST')).errors).toEqual([]);
    const left = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const [row] = await left<{ n: number }[]>`select count(*)::int as n from linkage_keys where holder = ${input.id!}`;
    await left.end();
    expect(row!.n).toBe(0);
  });

  it('the linkage service logs each call by member and count, and never an element', () => {
    const lines = fed
      .linkageLogs()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = lines.filter((l) => l.member === 'WMP' && l.outcome === 'evaluated');
    expect(calls.length).toBeGreaterThanOrEqual(8);
    expect(calls.every((c) => typeof c.count === 'number' && c.count > 0)).toBe(true);
  });
});
