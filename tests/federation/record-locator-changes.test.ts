/**
 * The record locator's owner rebuilds its filter after every write to its keys or records, seen
 * through the change counter (migration 0019), not through counts and timestamps: an outside review
 * found that a rekey keeping the number of keys, committed after a later write, left the filter
 * without the new keys while the owner went on signing that it was current. Two real nodes: GMP
 * serves its filter, WMP uses it.
 */
import { randomBytes } from 'node:crypto';

import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { PublishSubjectDocument } from '@mcx/client';
import { filterItem, PEER_OPERATIONS, verifyFilter } from '@mcx/federation';
import { keyResolverFromKeys, toPublicKey } from '@mcx/signing';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation } from '../testkit/federation.js';
import { eventually } from '../testkit/locator.js';
import type { TestNode } from '../testkit/node.js';

let gmp: TestNode;
let close: () => Promise<void>;

beforeAll(async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    MCX_LOCATOR: 'on',
    MCX_LOCATOR_POLL_MS: '300',
    MCX_LOCATOR_MAX_AGE_MS: '3000',
    MCX_LOCATOR_REBUILD_MS: '200',
  });
  try {
    const started = await startFederation(['WMP', 'GMP'] as const, { capabilities: PEER_OPERATIONS.map((op) => op.name) });
    gmp = started.nodes.GMP;
    close = started.close;
  } finally {
    process.env = saved;
  }
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  const identity = { forename: 'Tamsin', surname: 'Ellery', dob: '2009-05-06', sex: 'FEMALE' as const, nhsNumber: '9990001553' };
  const { publishSubject } = await gmp.client.request(PublishSubjectDocument, { input: { subjectRef: 'SUBJ-GMP-9', reviewAt, identity } });
  expect(publishSubject.errors).toEqual([]);
  expect((await publishEpisode(gmp.client, episodeInput({ subjectRef: 'SUBJ-GMP-9' }))).errors).toEqual([]);
}, 120_000);

afterAll(() => close?.());

/** GMP's filter as it serves it now, verified. */
function served() {
  const published = gmp.node.app.services.locatorFilter!.published!;
  const v = verifyFilter(published.jws, published.bits, {
    member: 'GMP',
    resolve: keyResolverFromKeys([toPublicKey(gmp.keys.auditCheckpoint)]),
    ownerOfKid: () => 'GMP',
    maxBytes: 1024 * 1024,
    now: new Date(),
  });
  if ('refused' in v) throw new Error(v.refused);
  return { version: published.version, filter: v.filter };
}

/** GMP's next filter: the first one it serves with another version than `version`. */
async function nextFilter(version: number) {
  return (
    await eventually(
      async () => served(),
      (s) => s.version !== version,
      3000,
    )
  ).value;
}

/** As a late rekey lands: one key of SUBJ-GMP-9 replaced by another, with a creation time older than every other key's. */
async function replaceKeyQuietly(sql: postgres.Sql, oldKey: string, newKey: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into linkage_keys (owner, holder_kind, holder, key_kind, strength, key_version, normalisation_version, key, created_at)
      select owner, holder_kind, holder, key_kind, strength, key_version, normalisation_version, ${newKey}, '2000-01-01T00:00:00Z'
      from linkage_keys where owner = 'GMP' and holder = 'SUBJ-GMP-9' and key = ${oldKey}`;
    await tx`delete from linkage_keys where owner = 'GMP' and holder = 'SUBJ-GMP-9' and key = ${oldKey}`;
  });
}

it('rebuilds after a rekey that keeps the number of keys and the newest key time', async () => {
  const sql = postgres(gmp.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [old] = await sql<{ key_version: string; key: string }[]>`
      select key_version, key from linkage_keys where owner = 'GMP' and holder = 'SUBJ-GMP-9' order by key limit 1`;
    expect(old).toBeDefined();
    // The filter holds the subject's keys before the change, and stays at one version while nothing changes.
    const before = (
      await eventually(
        async () => served(),
        (s) => s.filter.mayContain(filterItem({ keyVersion: old!.key_version, key: old!.key })),
        5000,
      )
    ).value;
    const newKey = randomBytes(32).toString('base64url');
    await replaceKeyQuietly(sql, old!.key, newKey);
    const after = await nextFilter(before.version);
    expect(after.filter.mayContain(filterItem({ keyVersion: old!.key_version, key: newKey }))).toBe(true);
    expect(after.filter.mayContain(filterItem({ keyVersion: old!.key_version, key: old!.key }))).toBe(false);
  } finally {
    await sql.end();
  }
});

it('notices counting turned off (a database restored from before it began): counts again, and rebuilds', async () => {
  const sql = postgres(gmp.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const before = served();
    const [old] = await sql<{ key_version: string; key: string }[]>`
      select key_version, key from linkage_keys where owner = 'GMP' and holder = 'SUBJ-GMP-9' order by key limit 1`;
    const newKey = randomBytes(32).toString('base64url');
    await sql`update locator_change_counter set enabled = false`;
    // Uncounted: the counter is off, and the number of keys and their newest time stay the same.
    await replaceKeyQuietly(sql, old!.key, newKey);
    const after = await nextFilter(before.version);
    expect(after.filter.mayContain(filterItem({ keyVersion: old!.key_version, key: newKey }))).toBe(true);
    const [counter] = await sql<{ enabled: boolean }[]>`select enabled from locator_change_counter`;
    expect(counter!.enabled).toBe(true);
  } finally {
    await sql.end();
  }
});

it('with the locator serving, every statement writing records counts, even one that changes no row', async () => {
  const sql = postgres(gmp.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [a] = await sql<{ enabled: boolean; changes: string }[]>`select enabled, changes::text from locator_change_counter`;
    expect(a!.enabled).toBe(true);
    await sql`update records set updated_at = updated_at where false`;
    const [b] = await sql<{ changes: string }[]>`select changes::text from locator_change_counter`;
    expect(BigInt(b!.changes)).toBe(BigInt(a!.changes) + 1n);
  } finally {
    await sql.end();
  }
});
