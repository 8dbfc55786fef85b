import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';

import { startTestNode, type TestNode } from '../testkit/node.js';

// MCX_ENV is the only switch, and nothing it leaves on goes unnoticed: a node outside production
// names each development convenience in force in its startup log, at warn level.
let t: TestNode;
beforeAll(async () => {
  t = await startTestNode({ force: 'WMP', env: { MCX_ENV: 'development' } });
});
afterAll(() => t?.close());

describe('the startup log names the development conveniences in force', () => {
  it('a development node warns of each, by code and by the setting that controls it', () => {
    const warnings = t
      .logs()
      .split('\n')
      .filter((l) => l.includes('"convenience"'))
      .map((l) => JSON.parse(l) as { level: string; env: string; convenience: string; msg: string });
    expect(warnings.map((w) => w.convenience)).toEqual([
      'DEV_ISSUER',
      'INTROSPECTION',
      'SUBGRAPH_ENTRY_OPEN',
      'KEYS_GENERATED',
      'PRIVILEGED_LOGIN_TOLERATED',
      'NOT_FEDERATED',
    ]);
    for (const w of warnings) {
      expect(w).toMatchObject({ level: 'warn', env: 'development' });
      expect(w.msg).toMatch(/^development convenience in force: .*\(.*MCX_[A-Z_]+.*\)$/);
    }
  });

  it('and they are what they say: the development issuer mints a working token, and it may introspect the schema', async () => {
    const token = await t.issuer.mintToken({
      roles: ['investigator'],
      force: 'WMP',
      orgKind: 'police',
      subject: 'dev',
      kind: 'user',
      ttlSec: 60,
      audience: devAudience('WMP'),
    });
    const res = await fetch(`${t.node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    expect(await res.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});
