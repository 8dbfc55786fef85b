import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AmendEpisodeDocument } from '@mcx/client';
import { generateNodeKeys, writeNodeKeys } from '@mcx/node';

import { allEntries } from '../testkit/audit.js';
import { mcx } from '../testkit/cli.js';
import { episodeInput, localEpisode, publishEpisode } from '../testkit/episodes.js';
import { startTestNode, type TestNode } from '../testkit/node.js';
import { retractRecord } from '../testkit/records.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mcx-purge-'));
const erasureLog = path.join(dir, 'erasures.jsonl');
let t: TestNode;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  writeNodeKeys(path.join(dir, 'keys'), generateNodeKeys());
  t = await startTestNode({ force: 'WMP', env: { MCX_KEYS_DIR: path.join(dir, 'keys'), MCX_ERASURE_LOG: erasureLog } });
  cliEnv = {
    MCX_ENV: 'test',
    DATABASE_URL: t.databaseUrl,
    MCX_FORCE_CODE: 'WMP',
    MCX_KEYS_DIR: path.join(dir, 'keys'),
    MCX_ERASURE_LOG: erasureLog,
  };
});
afterAll(() => t?.close());

describe('erasure: the purge job and its replay after a restore', () => {
  it('erases what the owner retracted for erasure, keeps the tombstone, logs and audits each erasure, and replays after a restore', async () => {
    const erased = episodeInput();
    const kept = episodeInput();
    await publishEpisode(t.client, erased);
    await t.client.request(AmendEpisodeDocument, { input: { ...erased, version: 2, assessment: { riskGrade: 'HIGH', indicators: [] } } });
    await publishEpisode(t.client, kept);
    const sql = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    const backup = await sql`select * from record_versions where id = ${erased.id!} order by version`;
    const backupHead = await sql`select * from records where id = ${erased.id!}`;
    expect((await retractRecord(t.client, 'EPISODE', erased.id!, 3, 'ERASURE_REQUEST')).errors).toEqual([]);
    expect((await retractRecord(t.client, 'EPISODE', kept.id!, 2, 'CREATED_IN_ERROR')).errors).toEqual([]);

    expect(await mcx(['purge'], cliEnv)).toMatch(/erased 1 records/);
    const left = await sql<{ version: number }[]>`select version from record_versions where id = ${erased.id!} order by version`;
    expect(left.map((r) => r.version)).toEqual([3]); // only the signed tombstone
    expect((await sql`select version from record_versions where id = ${kept.id!}`).length).toBe(2); // withdrawn, not erased
    const log = readFileSync(erasureLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log).toEqual([
      { owner: 'WMP', id: erased.id, kind: 'episode', versions: [1, 2], reason: 'ERASURE_REQUEST', erasedAt: expect.any(String) },
    ]);
    const auditor = await t.as({ roles: ['auditor'], subject: 'dpo-1' });
    expect((await allEntries(auditor, { action: 'ERASURE' })).map((e) => [e.operation, e.recordIds])).toEqual([
      ['purge', [`WMP/${erased.id}`]],
    ]);
    expect(await mcx(['purge'], cliEnv)).toMatch(/erased 0 records/); // idempotent

    // A restore from a backup taken before the retraction brings the content back...
    await sql`delete from record_versions where id = ${erased.id!}`;
    for (const row of backup) {
      await sql`insert into record_versions (owner, id, version, kind, content_hash, bytes, signature, signing_kid, published_at, stored_at)
        values (${row.owner}, ${row.id}, ${row.version}, ${row.kind}, ${row.content_hash}, ${row.bytes}, ${row.signature}, ${row.signing_kid}, ${row.published_at}, ${row.stored_at})`;
    }
    await sql`update records set version = ${backupHead[0]!.version}, state = 'ACTIVE' where id = ${erased.id!}`;
    expect((await localEpisode(t.investigator, 'WMP', erased.id!))?.version).toBe(2);

    // ...and replaying the erasure log erases it again, under a fresh signed tombstone.
    expect(await mcx(['purge', '--replay'], cliEnv)).toMatch(/replayed 1 erasures/);
    expect(await localEpisode(t.investigator, 'WMP', erased.id!)).toBeNull();
    const after = await sql<
      { version: number; bytes: string }[]
    >`select version, bytes from record_versions where id = ${erased.id!} order by version`;
    expect(after.map((r) => JSON.parse(r.bytes).schema)).toEqual(['mcx.tombstone/1']);
    await sql.end();
  });
});
