import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';

import { LocalEpisodeDocument } from '@mcx/client';

import {
  allEntries,
  AUDIT_ALERTS,
  AUDIT_CHECKPOINT,
  auditorOf,
  cliVerify,
  integrity,
  seededNode as seeded,
  WHO_HAS_SEEN,
} from '../testkit/audit.js';
import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

describe('what is logged', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ force: 'WMP' });
  });
  afterAll(() => t?.close());

  it('a publish is a collection, a read a consultation, each with actor, purpose, case and records', async () => {
    const input = episodeInput();
    await publishEpisode(t.client, input);
    await localEpisode(t.investigator, 'WMP', input.id!);
    const auditor = await auditorOf(t);
    const entries = await allEntries(auditor, { recordId: `WMP/${input.id}` });
    expect(entries.map((e) => [e.action, e.operation, e.outcome])).toEqual([
      ['COLLECTION', 'publishEpisode', 'SUCCESS'],
      ['CONSULTATION', 'localEpisode', 'SUCCESS'],
    ]);
    expect(entries[0]).toMatchObject({
      actor: { subject: 'test-publisher', force: 'WMP', orgKind: 'police', roles: ['publisher'] },
      recordIds: [`WMP/${input.id}`],
      requestingNode: null,
    });
    expect(entries[1]).toMatchObject({
      actor: { subject: 'test-investigator', roles: ['investigator'] },
      purpose: 'MISSING_LIVE_SEARCH',
      caseRef: readHeaders('WMP')['x-mcx-case-ref'],
      queryRecordIds: [`WMP/${input.id}`],
      recordIds: [`WMP/${input.id}`],
    });
  });

  it('an id the audit log could not hold (a name, say) is refused as bad input, and the attempt audited without it', async () => {
    const res = await t.investigator.raw(LocalEpisodeDocument, { owner: 'WMP', id: 'Olivia Hart' });
    expect(res.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'MALFORMED_RECORD_ID' });
    expect(JSON.stringify(res.errors)).not.toContain('Olivia');
    const last = (await allEntries(await auditorOf(t))).filter((e) => e.operation === 'localEpisode').at(-1);
    expect(last).toMatchObject({ action: 'CONSULTATION', reason: 'MALFORMED_RECORD_ID', queryRecordIds: [], recordIds: [] });
    const who = await (await auditorOf(t)).raw(WHO_HAS_SEEN as never, { owner: 'WMP', id: 'Olivia Hart' });
    expect(who.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'MALFORMED_RECORD_ID' });
  });

  it('a refused authenticated actor is logged as an authorisation failure; anonymous noise goes to the security log', async () => {
    const before = (await allEntries(await auditorOf(t), { action: 'AUTHORISATION_FAILURE' })).length;
    const res = await t.client.raw(LocalEpisodeDocument, { owner: 'WMP', id: '7d3f1c1e-1f0a-4c55-9a7e-0b8d2f7a1c01' });
    expect(res.errors[0]?.extensions?.code).toBe('FORBIDDEN');
    const failures = await allEntries(await auditorOf(t), { action: 'AUTHORISATION_FAILURE' });
    expect(failures.length).toBe(before + 1);
    expect(failures.at(-1)).toMatchObject({
      actor: { subject: 'test-publisher' },
      operation: 'localEpisode',
      outcome: 'REFUSED',
      reason: 'FORBIDDEN',
    });

    const all = (await allEntries(await auditorOf(t))).length;
    for (let i = 0; i < 20; i++)
      await fetch(`${t.node.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.token' },
        body: '{"query":"{ nodeForce }"}',
      });
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const rows = await sql<{ n: number }[]>`select count(*)::int as n from security_events where kind = 'token_refused'`;
    await sql.end();
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.n).toBeLessThanOrEqual(5); // rate-limited: the rest are folded into a count
    // The auditor's own queries are audited, but the 20 anonymous requests added nothing to the chain.
    expect((await allEntries(await auditorOf(t))).length).toBe(all + 1);
  });

  it('who has seen this record: every consultation, and the lookup itself is audited', async () => {
    const input = episodeInput();
    await publishEpisode(t.client, input);
    const other = await t.as({
      roles: ['investigator'],
      subject: 'inv-2',
      headers: { 'x-mcx-purpose': 'MISSING_REVIEW', 'x-mcx-case-ref': 'WMP-26-2002' },
    });
    await localEpisode(t.investigator, 'WMP', input.id!);
    await localEpisode(other, 'WMP', input.id!);
    const auditor = await auditorOf(t);
    const { whoHasSeenRecord } = (await auditor.request(WHO_HAS_SEEN as never, { owner: 'WMP', id: input.id } as never)) as {
      whoHasSeenRecord: { entries: { actor: { subject: string }; caseRef: string }[] };
    };
    expect(whoHasSeenRecord.entries.map((e) => [e.actor.subject, e.caseRef])).toEqual([
      ['test-investigator', 'WMP-26-1001'],
      ['inv-2', 'WMP-26-2002'],
    ]);
    // The lookup is audited as a query about the record; the auditor never saw the record itself.
    const lookups = (await allEntries(auditor, { actorSubject: 'dpo-1' })).filter((e) => e.operation === 'whoHasSeenRecord');
    expect(lookups.map((e) => [e.queryRecordIds, e.recordIds, e.purpose])).toEqual([[[`WMP/${input.id}`], [], 'AUDIT_REVIEW']]);
  });
});

describe('fishing alerts', () => {
  it('flags an actor whose consultations exceed the threshold in the window', async () => {
    const t = await startTestNode({ force: 'WMP' });
    try {
      const input = episodeInput();
      await publishEpisode(t.client, input);
      const from = new Date(Date.now() - 60_000).toISOString();
      for (let i = 0; i < 6; i++) await localEpisode(t.investigator, 'WMP', input.id!);
      await localEpisode(await t.as({ roles: ['investigator'], subject: 'inv-quiet', headers: readHeaders('WMP') }), 'WMP', input.id!);
      const auditor = await auditorOf(t);
      const { auditAlerts } = (await auditor.request(
        AUDIT_ALERTS as never,
        { from, to: new Date(Date.now() + 60_000).toISOString(), t: 5 } as never,
      )) as { auditAlerts: { kind: string; actorSubject: string; count: number }[] };
      expect(auditAlerts.filter((a) => a.kind === 'unusual_volume')).toEqual([
        { kind: 'unusual_volume', actorSubject: 'test-investigator', actorRequestingNode: null, count: 6 },
      ]);
      // A window with more reads than are read at once is refused, never judged on part of it.
      const window = { from: new Date(from), to: new Date(Date.now() + 60_000), perActorThreshold: 5, caseRefPattern: /^.*$/ };
      const reads = (await t.node.app.services.audit.list({ ...window, actions: ['consultation', 'disclosure'] }, { first: 1000 })).length;
      expect(reads).toBeGreaterThanOrEqual(7);
      expect(await t.node.app.services.audit.alerts({ ...window, maxReads: reads })).not.toEqual([]);
      const refused = await t.node.app.services.audit.alerts({ ...window, maxReads: reads - 1 }).catch((err: unknown) => err);
      expect(refused).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'ALERT_WINDOW_TOO_LARGE' } });
    } finally {
      await t.close();
    }
  });
});

describe('no read without its entry', () => {
  it('when the audit insert fails, the read returns no data and an error', async () => {
    const t = await startTestNode({ force: 'GMP' });
    try {
      const input = episodeInput();
      await publishEpisode(t.client, input);
      const admin = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
      await admin`revoke insert on audit_entries from mcx_app`;
      try {
        const res = await t.investigator.raw(LocalEpisodeDocument, { owner: 'GMP', id: input.id! });
        expect(res.data?.localEpisode ?? null).toBeNull();
        expect(res.errors[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
        expect(JSON.stringify(res)).not.toContain(input.ownerReference!);
      } finally {
        await admin`grant insert on audit_entries to mcx_app`;
        await admin.end();
      }
      expect((await localEpisode(t.investigator, 'GMP', input.id!))?.id).toBe(input.id);
    } finally {
      await t.close();
    }
  });

  it('the application role cannot update, delete or truncate the audit tables, and owns none of them', async () => {
    const t = await startTestNode({ force: 'MPS' });
    try {
      await publishEpisode(t.client, episodeInput());
      const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const owners = await sql<
          { tableowner: string }[]
        >`select tableowner from pg_tables where tablename in ('audit_entries', 'audit_checkpoints', 'audit_receipts')`;
        expect(owners).toHaveLength(3);
        expect(owners.every((o) => o.tableowner !== 'mcx_app')).toBe(true);
        for (const table of ['audit_entries', 'audit_checkpoints', 'audit_receipts']) {
          for (const statement of [
            `update ${table} set ${table === 'audit_entries' ? 'outcome' : table === 'audit_checkpoints' ? 'jws' : 'peer'} = 'x'`,
            `delete from ${table}`,
            `truncate ${table}`,
          ]) {
            await expect(
              sql.begin(async (tx) => {
                await tx.unsafe('set local role mcx_app');
                await tx.unsafe(statement);
              }),
            ).rejects.toMatchObject({ code: '42501' });
          }
        }
        const can = await sql<
          { ins: boolean; upd: boolean }[]
        >`select has_table_privilege('mcx_app', 'audit_entries', 'INSERT') as ins, has_table_privilege('mcx_app', 'audit_entries', 'UPDATE') as upd`;
        expect(can[0]).toEqual({ ins: true, upd: false });
      } finally {
        await sql.end();
      }
    } finally {
      await t.close();
    }
  });
});

describe('tampering done directly in the database is detected by the integrity check and by mcx audit verify', () => {
  const CASES: [string, (sql: postgres.Sql) => Promise<unknown>, number][] = [
    ['an updated row', (sql) => sql`update audit_entries set entry = jsonb_set(entry, '{outcome}', '"refused"') where seq = 3`, 3],
    ['a deleted row', (sql) => sql`delete from audit_entries where seq = 4`, 4],
    [
      'an inserted row',
      async (sql) => {
        await sql`update audit_entries set seq = seq + 1000 where seq >= 5`;
        await sql`insert into audit_entries (seq, prev_hash, hash, at, action, actor_subject, actor_force, outcome, record_ids, entry) select 5, prev_hash, hash, at, action, actor_subject, actor_force, outcome, record_ids, entry from audit_entries where seq = 1004`;
        await sql`update audit_entries set seq = seq - 999 where seq >= 1005`;
      },
      5,
    ],
    [
      'reordered rows',
      async (sql) => {
        await sql`update audit_entries set seq = -1 where seq = 2`;
        await sql`update audit_entries set seq = 2 where seq = 3`;
        await sql`update audit_entries set seq = 3 where seq = -1`;
      },
      2,
    ],
    ['a truncated tail', (sql) => sql`delete from audit_entries where seq > 5`, 6],
  ];

  it.each(CASES)('%s', async (_label, tamper, expectedSeq) => {
    const { t, auditor } = await seeded('WMP');
    try {
      expect(await integrity(auditor)).toMatchObject({ status: 'ok', firstBadSeq: null });
      const admin = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
      await tamper(admin);
      await admin.end();
      const checked = await integrity(auditor);
      expect(checked.status).toBe('failed');
      expect(checked.firstBadSeq).toBeLessThanOrEqual(expectedSeq + 1);
      expect(checked.firstBadSeq).toBeGreaterThanOrEqual(expectedSeq - 1);
      const cli = await cliVerify(t, auditor);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toMatch(/FAILED at seq \d+/);
    } finally {
      await t.close();
    }
  });

  it('entries after the last checkpoint are reported as unverified, never as ok', async () => {
    const { t, ids, auditor } = await seeded('GMP');
    try {
      await localEpisode(t.investigator, 'GMP', ids[0]!);
      const checked = await integrity(auditor);
      expect(checked.status).toBe('unverified');
      expect(checked.unverifiedAfter).toBeGreaterThanOrEqual(1);
      const cli = await cliVerify(t, auditor);
      expect(cli.code).toBe(2);
      expect(cli.stdout).toContain('UNVERIFIED');
    } finally {
      await t.close();
    }
  });
});

describe('two app instances append concurrently to one database', () => {
  it('the chain stays one valid chain under load', async () => {
    const a = await startTestNode({ force: 'WMP' });
    const b = await startTestNode({ force: 'WMP', databaseUrl: a.databaseUrl, issuer: a.issuer });
    // It failed once in a full run (a read not audited, under load): show why, if it does again.
    onTestFailed(() => {
      for (const [name, n] of [
        ['a', a],
        ['b', b],
      ] as const)
        for (const line of n
          .logs()
          .split('\n')
          .filter((l) => /"level":"(error|fatal)"/.test(l)))
          console.error(`instance ${name}: ${line}`);
    });
    try {
      const inputs = Array.from({ length: 40 }, () => episodeInput());
      await Promise.all(inputs.map((input, i) => publishEpisode((i % 2 ? a : b).client, input)));
      // Reads (group commits) at both instances while both publish (each publish appends inside
      // its own transaction): every append races writers the other way moving the chain.
      const more = Array.from({ length: 40 }, () => episodeInput());
      await Promise.all([
        ...more.map((input, i) => publishEpisode((i % 2 ? b : a).client, input)),
        ...Array.from({ length: 400 }, (_, i) => localEpisode((i % 2 ? a : b).investigator, 'WMP', inputs[i % inputs.length]!.id!)),
      ]);
      const auditor = await a.as({ roles: ['auditor'], subject: 'dpo-1' });
      await auditor.request(AUDIT_CHECKPOINT as never);
      const checked = await integrity(auditor);
      expect(checked).toMatchObject({ status: 'ok', firstBadSeq: null });
      expect(checked.verifiedThrough).toBeGreaterThanOrEqual(480);
      const entries = await allEntries(auditor, { action: 'CONSULTATION', actorSubject: 'test-investigator' });
      expect(entries).toHaveLength(400);
      expect(new Set(entries.map((e) => e.seq)).size).toBe(400);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
