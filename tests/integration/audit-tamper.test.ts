import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

import { entryHash, type AuditEntry } from '@mcx/audit';
import type { McxClient } from '@mcx/client';

import { allEntries, AUDIT_CHECKPOINT, cliVerify, integrity, readyz, seededNode, WHO_HAS_SEEN } from '../testkit/audit.js';
import { localEpisode } from '../testkit/episodes.js';
import type { TestNode } from '../testkit/node.js';

// Tampering done directly in the database, as its owner (the node's own role may not UPDATE the
// audit tables): what the node, its auditors and `mcx audit verify` must notice.

function admin(t: TestNode): postgres.Sql {
  return postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
}

async function checkpointCount(t: TestNode): Promise<{ n: number; max: number }> {
  const sql = admin(t);
  try {
    const [row] = await sql<
      { n: number; max: number }[]
    >`select count(*)::int as n, coalesce(max(size), 0)::int as max from audit_checkpoints`;
    return row!;
  } finally {
    await sql.end();
  }
}

/**
 * Rewrites entry `seq` with `edit` (and its column copies alike), then recomputes the link and the
 * hash of it and of every later entry, as an attacker who knows the formula would: the chain links.
 */
async function rewriteAndRehash(t: TestNode, seq: number, edit: (entry: AuditEntry) => AuditEntry): Promise<void> {
  const sql = admin(t);
  try {
    await sql.begin(async (tx) => {
      const rows = await tx<
        { seq: number; prevHash: string; entry: AuditEntry }[]
      >`select seq::int as seq, prev_hash as "prevHash", entry from audit_entries where seq >= ${seq} order by seq`;
      let prev = rows[0]!.prevHash;
      for (const row of rows) {
        const entry = row.seq === seq ? edit(row.entry) : row.entry;
        const hash = entryHash(prev, row.seq, entry);
        await tx`update audit_entries set entry = ${JSON.stringify(entry)}::jsonb, prev_hash = ${prev}, hash = ${hash},
          action = ${entry.action}, actor_subject = ${entry.actor.subject}, actor_force = ${entry.actor.force}, requesting_node = ${entry.requestingNode},
          purpose = ${entry.purpose}, case_ref = ${entry.caseRef}, outcome = ${entry.outcome}, record_ids = ${entry.recordIds}, at = ${entry.at}
          where seq = ${row.seq}`;
        prev = hash;
      }
    });
  } finally {
    await sql.end();
  }
}

/** The node's error-level log lines that name a broken chain at `seq`. */
function chainBrokenLines(t: TestNode, seq: number): Record<string, unknown>[] {
  return t
    .logs()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === 'error' && typeof l.msg === 'string' && l.msg.startsWith(`audit chain broken at seq ${seq} `));
}

async function refusedCheckpoint(auditor: McxClient): Promise<{ code: unknown; reason: unknown; message: string | undefined }> {
  const res = (await auditor.raw(AUDIT_CHECKPOINT as never)) as {
    data?: { auditCheckpoint?: unknown } | null;
    errors?: { message?: string; extensions?: Record<string, unknown> }[];
  };
  expect(res.data?.auditCheckpoint ?? null).toBeNull();
  const error = res.errors?.[0];
  return { code: error?.extensions?.code, reason: error?.extensions?.reason, message: error?.message };
}

/** The seq of the investigator's first read of `id`, found through the auditor API before any tampering. */
async function readOf(auditor: McxClient, owner: string, id: string): Promise<{ seq: number; at: string; caseRef: string | null }> {
  const entries = await allEntries(auditor, { recordId: `${owner}/${id}`, action: 'CONSULTATION' });
  const read = entries.find((e) => e.operation === 'localEpisode');
  if (!read) throw new Error('the seeded read is not in the log');
  return read as unknown as { seq: number; at: string; caseRef: string | null };
}

const seqsOf = async (auditor: McxClient, filter: Record<string, unknown>): Promise<number[]> =>
  (await allEntries(auditor, filter)).map((e) => (e as unknown as { seq: number }).seq);

interface ColumnCase {
  column: string;
  /** The SQL assignment of the tampering, and the entry field it copies. */
  set: (ids: string[], read: { at: string }) => string;
  field: string;
  /** The filters a read of ids[0] must still be found by, and those it must not be planted into. */
  still: (ids: string[], read: { at: string; caseRef: string | null }) => Record<string, unknown>[];
  notPlanted: (ids: string[], read: { at: string }) => Record<string, unknown>[];
}

const minutes = (at: string, n: number): string => new Date(Date.parse(at) + n * 60_000).toISOString();

const COLUMN_CASES: ColumnCase[] = [
  {
    column: 'purpose',
    field: 'purpose',
    set: () => `purpose = 'MISSING_REVIEW'`,
    still: (ids) => [{ purpose: 'MISSING_LIVE_SEARCH', recordId: `WMP/${ids[0]}` }],
    notPlanted: () => [{ purpose: 'MISSING_REVIEW' }],
  },
  {
    column: 'record_ids',
    field: 'recordIds',
    // Moved onto another record: hidden from the one that was read, planted on one that was not.
    set: (ids) => `record_ids = array['WMP/${ids[1]}']`,
    still: (ids) => [{ recordId: `WMP/${ids[0]}` }],
    notPlanted: (ids) => [{ recordId: `WMP/${ids[1]}` }],
  },
  {
    column: 'actor_subject',
    field: 'actorSubject',
    set: () => `actor_subject = 'inv-other'`,
    still: () => [{ actorSubject: 'test-investigator', action: 'CONSULTATION' }],
    notPlanted: () => [{ actorSubject: 'inv-other' }],
  },
  {
    column: 'actor_force',
    field: 'actorForce',
    set: () => `actor_force = 'GMP'`,
    still: () => [{ actorForce: 'WMP', action: 'CONSULTATION' }],
    notPlanted: () => [{ actorForce: 'GMP' }],
  },
  {
    column: 'case_ref',
    field: 'caseRef',
    set: () => `case_ref = 'WMP-26-9999'`,
    still: (_ids, read) => [{ caseRef: read.caseRef }],
    notPlanted: () => [{ caseRef: 'WMP-26-9999' }],
  },
  {
    column: 'requesting_node',
    field: 'requestingNode',
    set: () => `requesting_node = 'GMP'`,
    still: (ids) => [{ recordId: `WMP/${ids[0]}`, action: 'CONSULTATION' }],
    notPlanted: () => [{ requestingNode: 'GMP' }],
  },
  {
    column: 'action',
    field: 'action',
    set: () => `action = 'collection'`,
    still: (ids) => [{ action: 'CONSULTATION', recordId: `WMP/${ids[0]}` }],
    notPlanted: (ids) => [{ action: 'COLLECTION', recordId: `WMP/${ids[0]}`, actorSubject: 'test-investigator' }],
  },
  {
    column: 'outcome',
    field: 'outcome',
    set: () => `outcome = 'refused'`,
    still: (ids) => [{ outcome: 'SUCCESS', recordId: `WMP/${ids[0]}`, action: 'CONSULTATION' }],
    notPlanted: () => [{ outcome: 'REFUSED' }],
  },
  {
    column: 'at',
    field: 'at',
    set: () => `at = at - interval '1 day'`,
    still: (_ids, read) => [{ from: minutes(read.at, -1), to: minutes(read.at, 1), action: 'CONSULTATION' }],
    notPlanted: (_ids, read) => [{ from: minutes(read.at, -24 * 60 - 1), to: minutes(read.at, -24 * 60 + 1) }],
  },
];

describe('an audit column edited outside the hash chain', () => {
  it.each(COLUMN_CASES)(
    '$column: the filters still read the hashed entry, and auditIntegrity, mcx audit verify, /readyz and the checkpoint name the row',
    async (c) => {
      const { t, ids, auditor } = await seededNode('WMP');
      try {
        const read = await readOf(auditor, 'WMP', ids[0]!);
        const clean = await integrity(auditor);
        expect(clean.firstBadSeq).toBeNull();
        expect(clean.status).not.toBe('failed');
        const sql = admin(t);
        await sql.unsafe(`update audit_entries set ${c.set(ids, read)} where seq = $1`, [read.seq]);
        await sql.end();

        // Not hidden: the filters and whoHasSeenRecord find the read by what was hashed.
        for (const filter of c.still(ids, read)) expect(await seqsOf(auditor, filter), JSON.stringify(filter)).toContain(read.seq);
        const { whoHasSeenRecord } = (await auditor.request(WHO_HAS_SEEN as never, { owner: 'WMP', id: ids[0] } as never)) as {
          whoHasSeenRecord: { entries: { seq: number }[] };
        };
        expect(whoHasSeenRecord.entries.map((e) => e.seq)).toContain(read.seq);
        // Not planted: the edited copy does not make the read match what it was not.
        for (const filter of c.notPlanted(ids, read)) expect(await seqsOf(auditor, filter), JSON.stringify(filter)).not.toContain(read.seq);

        // Reported: the integrity check names the row.
        expect(await integrity(auditor)).toMatchObject({ status: 'failed', firstBadSeq: read.seq, firstBadReason: 'COLUMN_MISMATCH' });
        const cli = await cliVerify(t, auditor);
        expect(cli.code).toBe(1);
        expect(cli.stdout).toContain(
          `FAILED at seq ${read.seq}: COLUMN_MISMATCH: the stored ${c.field} column differs from the hashed entry`,
        );
        expect((await readyz(t)).body.audit).toBe(`chain broken at seq ${read.seq} (COLUMN_MISMATCH: ${c.field})`);
        expect(chainBrokenLines(t, read.seq).length).toBeGreaterThanOrEqual(1);
        const before = await checkpointCount(t);
        expect(await refusedCheckpoint(auditor)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'AUDIT_CHAIN_BROKEN' });
        expect(await checkpointCount(t)).toEqual(before);
      } finally {
        await t.close();
      }
    },
  );
});

describe('a chain rewritten and re-hashed in the database', () => {
  it('under the last checkpoint: no checkpoint is signed on request or at shutdown; the log, /readyz, auditIntegrity and mcx audit verify say where', async () => {
    const { t, ids, auditor } = await seededNode('WMP', { MCX_AUDIT_CHECKPOINT_SECONDS: '0' });
    let closed = false;
    try {
      const read = await readOf(auditor, 'WMP', ids[1]!);
      const { max: checkpointed } = await checkpointCount(t);
      expect(read.seq).toBeLessThan(checkpointed);
      expect((await readyz(t)).body.audit).toBe('ok');

      await rewriteAndRehash(t, read.seq, (e) => ({ ...e, outcome: 'refused', recordIds: [] }));
      await localEpisode(t.investigator, 'WMP', ids[0]!); // the chain grows after the forgery
      const before = await checkpointCount(t);

      const refused = await refusedCheckpoint(auditor);
      expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'AUDIT_CHAIN_BROKEN' });
      expect(refused.message).toContain(`seq ${checkpointed} (CHECKPOINT_MISMATCH)`);
      expect(await checkpointCount(t)).toEqual(before);

      const lines = chainBrokenLines(t, checkpointed);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines[0]).toMatchObject({ auditFault: { firstBadSeq: checkpointed, reason: 'CHECKPOINT_MISMATCH' } });
      const ready = await readyz(t);
      expect(ready.body.audit).toBe(`chain broken at seq ${checkpointed} (CHECKPOINT_MISMATCH)`);

      expect(await integrity(auditor)).toMatchObject({
        status: 'failed',
        firstBadSeq: checkpointed,
        firstBadReason: 'CHECKPOINT_MISMATCH',
      });
      const cli = await cliVerify(t, auditor);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain(`FAILED at seq ${checkpointed}: CHECKPOINT_MISMATCH`);

      await t.close();
      closed = true;
      expect(await checkpointCount(t)).toEqual(before); // nor at shutdown
    } finally {
      if (!closed) await t.close();
    }
  });

  it('the periodic checkpoint signs nothing over a forged chain and raises the fault', async () => {
    const { t, ids, auditor } = await seededNode('GMP', { MCX_AUDIT_CHECKPOINT_SECONDS: '1' });
    try {
      // Found by SQL, not through the auditor API, so that nothing is appended before the forgery.
      const sql = admin(t);
      const [read] = await sql<
        { seq: number }[]
      >`select seq::int as seq from audit_entries where entry->'query'->>'operation' = 'localEpisode' and entry->'recordIds' ? ${`GMP/${ids[2]}`}`;
      await sql.end();
      const { max: checkpointed } = await checkpointCount(t);
      await rewriteAndRehash(t, read!.seq, (e) => ({ ...e, actor: { ...e.actor, subject: 'inv-other' } }));
      await localEpisode(t.investigator, 'GMP', ids[0]!);
      const before = await checkpointCount(t);
      expect(before.max).toBe(checkpointed);

      // Until the timer has done something about the forged head: refused it, or signed it.
      const deadline = Date.now() + 10_000;
      while (chainBrokenLines(t, checkpointed).length === 0 && (await checkpointCount(t)).n === before.n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 2_500)); // and a few more ticks
      expect(await checkpointCount(t)).toEqual(before);
      expect(chainBrokenLines(t, checkpointed)[0]).toMatchObject({
        auditFault: { firstBadSeq: checkpointed, reason: 'CHECKPOINT_MISMATCH', found: 'checkpoint' },
      });
      expect((await readyz(t)).body.audit).toBe(`chain broken at seq ${checkpointed} (CHECKPOINT_MISMATCH)`);
      expect(await integrity(auditor)).toMatchObject({ status: 'failed', firstBadSeq: checkpointed });
    } finally {
      await t.close();
    }
  });

  it('after the last checkpoint, where no checkpoint covers it: the entries the node appended witness it', async () => {
    const { t, ids, auditor } = await seededNode('MPS', { MCX_AUDIT_CHECKPOINT_SECONDS: '0' });
    try {
      const { max: checkpointed } = await checkpointCount(t);
      await localEpisode(t.investigator, 'MPS', ids[0]!);
      await localEpisode(t.investigator, 'MPS', ids[1]!);
      const rewritten = checkpointed + 1; // the first of the two reads
      await rewriteAndRehash(t, rewritten, (e) => ({ ...e, recordIds: [] }));
      // An append after the forgery chains from the forged head: it witnesses nothing, the earlier ones do.
      await localEpisode(t.investigator, 'MPS', ids[2]!);
      const before = await checkpointCount(t);

      const refused = await refusedCheckpoint(auditor);
      expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'AUDIT_CHAIN_BROKEN' });
      expect(await checkpointCount(t)).toEqual(before);
      const seq = rewritten; // the lowest entry the node appended whose hash changed
      expect(chainBrokenLines(t, seq)[0]).toMatchObject({ auditFault: { firstBadSeq: seq, reason: 'APPENDED_ENTRY_CHANGED' } });
      expect((await readyz(t)).body.audit).toBe(`chain broken at seq ${seq} (APPENDED_ENTRY_CHANGED)`);
      expect(await integrity(auditor)).toMatchObject({ status: 'failed', firstBadSeq: seq, firstBadReason: 'APPENDED_ENTRY_CHANGED' });
      // Offline, with no checkpoint over the forged entries, the export can only be unverified past
      // the last checkpoint (exit 2), never ok: the node signed none over them.
      const cli = await cliVerify(t, auditor);
      expect(cli.code).toBe(2);
      expect(cli.stdout).toContain(`ok through seq ${checkpointed}`);
    } finally {
      await t.close();
    }
  });
});
