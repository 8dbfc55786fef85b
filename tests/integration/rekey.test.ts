import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { McxClient } from '@mcx/client';

import { createFederation, type TestFederation } from '../testkit/federation.js';
import { startTestNode, type TestNode } from '../testkit/node.js';

const PUBLISH = gql`
  mutation P($input: McxSubjectInput!) {
    publishSubject(input: $input) {
      subject {
        keyVersion
      }
      errors {
        code
      }
    }
  }
`;
const REKEY = gql`
  mutation R($input: McxSubjectInput!) {
    rekeySubject(input: $input) {
      subject {
        keyVersion
      }
      errors {
        code
      }
    }
  }
`;
const MATCH = gql`
  query M($identity: McxChildIdentityInput!) {
    matchSubjects(identity: $identity) {
      subjectRef
      strength
    }
  }
`;
const identity = { forename: 'Ottilie', surname: 'Brackenbury', dob: '2010-10-30', sex: 'FEMALE' };
const input = { subjectRef: 'SUBJ-RK', reviewAt: new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10), identity };

let fed: TestFederation;
let t: TestNode;
async function node(env: Record<string, string> = {}) {
  await t?.close();
  t = await startTestNode({ force: 'WMP', keys: fed.keys.WMP!, databaseUrl: t?.databaseUrl, env: { ...fed.nodeEnv('WMP'), ...env } });
  return t;
}
async function matches(client: McxClient) {
  return ((await client.request(MATCH as never, { identity } as never)) as { matchSubjects: { subjectRef: string; strength: string }[] })
    .matchSubjects;
}

beforeAll(async () => {
  fed = await createFederation(['WMP']);
});
afterAll(async () => {
  await t?.close();
  await fed?.close();
});

describe('rotating the OPRF key', () => {
  it('both key versions are queried during the changeover, and rekeySubject moves a subject to the new one', async () => {
    await node();
    const first = (await t.client.request(PUBLISH as never, { input } as never)) as { publishSubject: { subject: { keyVersion: string } } };
    expect(first.publishSubject.subject.keyVersion).toBe('k1');
    expect(await matches(t.investigator)).toEqual([{ subjectRef: 'SUBJ-RK', strength: 'STRONG' }]);

    await fed.rotateLinkageKey('k2');
    // Asking under the new key alone would miss every subject not yet re-keyed...
    expect(await matches(t.investigator)).toEqual([]);
    // ...so during the changeover the node asks under both.
    await node({ MCX_LINKAGE_PREVIOUS_KEY_VERSION: 'k1' });
    expect(await matches(t.investigator)).toEqual([{ subjectRef: 'SUBJ-RK', strength: 'STRONG' }]);

    const rekeyed = (await t.client.request(REKEY as never, { input } as never)) as {
      rekeySubject: { subject: { keyVersion: string }; errors: unknown[] };
    };
    expect(rekeyed.rekeySubject).toEqual({ subject: { keyVersion: 'k2' }, errors: [] });
    await node();
    expect(await matches(t.investigator)).toEqual([{ subjectRef: 'SUBJ-RK', strength: 'STRONG' }]);
  });
});
