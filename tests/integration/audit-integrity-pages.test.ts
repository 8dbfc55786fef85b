// The auditor's full integrity check (auditIntegrity) on logs longer than the 500 entries it reads
// at a time through one cursor (services/node/src/modules/audit/audit-store.ts pages()): the whole
// log is checked across pages, and rows planted where paging by seq would never look are read too.
// Tampering is done in the database as its owner, as in audit-tamper.test.ts.
import { describe, expect, it } from 'vitest';

import { ownerSql } from '../testkit/alerts.js';
import { integrity, seededNode } from '../testkit/audit.js';

describe('a log several pages long (the full check reads it 500 entries at a time)', () => {
  it('is checked whole: ok through a checkpoint in its third page, and a row rewritten in a later page is named', async () => {
    const { t, auditor } = await seededNode('WMP', { MCX_AUDIT_CHECKPOINT_SECONDS: '0' });
    try {
      const { audit } = t.node.app.services;
      const viewer = {
        subject: 'inv-1',
        issuer: 'https://login.example/wmp',
        force: 'WMP',
        orgKind: 'police' as const,
        roles: ['investigator' as const],
        tokenKind: 'user' as const,
      };
      // 1,200 more consultations, 50 at a time (each batch one group commit).
      for (let batch = 0; batch < 24; batch++)
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            audit.record({
              action: 'consultation',
              viewer,
              requestingNode: null,
              purpose: 'MISSING_LIVE_SEARCH',
              caseRef: 'WMP-26-1001',
              linkageDigest: null,
              operation: 'localEpisode',
              queryIds: [],
              recordIds: [`WMP/bulk-${batch}-${i}`],
              outcome: 'success',
              reason: null,
            }),
          ),
        );
      const signed = await audit.checkpoint();
      expect(signed!.size).toBeGreaterThan(1200);
      const whole = await integrity(auditor);
      // The check itself is audited after it reads: the log it saw ends at the checkpoint.
      expect(whole).toMatchObject({
        status: 'ok',
        entries: signed!.size,
        verifiedThrough: signed!.size,
        unverifiedAfter: 0,
        firstBadSeq: null,
      });

      // Entry 1,111 (the third page) edited in place, its hash kept: the check names it, and vouches only up to the last checkpoint below it.
      const below = await ownerSql(t, async (sql) => {
        await sql`update audit_entries set entry = jsonb_set(entry, '{outcome}', '"refused"') where seq = 1111`;
        const [row] = await sql<{ below: number }[]>`select coalesce(max(size), 0)::int as below from audit_checkpoints where size < 1111`;
        return row!.below;
      });
      expect(await integrity(auditor)).toMatchObject({
        status: 'failed',
        firstBadSeq: 1111,
        firstBadReason: 'ENTRY_HASH_MISMATCH',
        verifiedThrough: below,
      });
    } finally {
      await t.close();
    }
  });
  it('a row planted below seq 1, or beyond the seqs a number holds, is read and fails the check (it ends)', async () => {
    const { t, auditor } = await seededNode('WMP', { MCX_AUDIT_CHECKPOINT_SECONDS: '0' });
    // Copies of row 1 at `seqs` (a SQL expression over g, one row per g in 0..count-1), after the rows planted before are gone.
    const plant = (seqs: string, count: number) =>
      ownerSql(t, async (sql) => {
        await sql`delete from audit_entries where seq < 1 or seq > 1000000`;
        await sql.unsafe(`insert into audit_entries (seq, prev_hash, hash, at, action, actor_subject, actor_force, requesting_node,
          purpose, case_ref, outcome, record_ids, entry) select ${seqs}, prev_hash, hash, at, action, actor_subject, actor_force,
          requesting_node, purpose, case_ref, outcome, record_ids, entry from audit_entries, generate_series(0, ${count - 1}) g where seq = 1`);
      });
    try {
      expect((await integrity(auditor)).status).not.toBe('failed');
      await plant('0', 1);
      expect(await integrity(auditor)).toMatchObject({ status: 'failed', firstBadSeq: 1 });
      // 600 rows past 2^62 (more than a page): they read as one and the same number; the check still ends, and fails.
      await plant('4611686018427387904 + g', 600);
      const past = await integrity(auditor);
      expect(past.status).toBe('failed');
      expect(past.entries).toBeGreaterThan(600);
    } finally {
      await t.close();
    }
  });
});
