import { describe, expect, it } from 'vitest';

import { keyResolverFromKeys, toPublicKey } from '@mcx/signing';

import { chainEntries, entryHash, GENESIS_HASH, type StoredEntry } from './chain.js';
import { makeCheckpoint } from './checkpoint.js';
import { columnMismatch, entryColumns } from './columns.js';
import { fixtureEntry, fixtureLog, NODE, T0 } from './fixtures/audit-log.js';
import { KEYS } from './fixtures/fixture-keys.js';
import { BASE, TAMPER_CASES } from './fixtures/tampering.js';
import { verifyChain, verifyChainPaged, verifyContinuation } from './verify.js';

const PUBLIC = toPublicKey(KEYS.wmpAudit);

describe('verifyChain', () => {
  it('verifies an untampered chain with a checkpoint at the head: ok through the head', () => {
    expect(verifyChain(BASE.rows, BASE.checkpoints, PUBLIC, { node: NODE })).toEqual({
      ok: true,
      status: 'ok',
      verifiedThrough: 12,
      unverifiedAfter: 0,
      firstBad: null,
      checkpointsChecked: 3,
      entries: 12,
      chainIntactThrough: 12,
    });
    const reversed = [...BASE.checkpoints].reverse();
    expect(verifyChain(BASE.rows, reversed, keyResolverFromKeys([PUBLIC])).ok).toBe(true);
  });

  it('reports entries after the last checkpoint as unverified, never ok', () => {
    const result = verifyChain(BASE.rows, BASE.checkpoints.slice(0, 2), PUBLIC);
    expect(result).toMatchObject({
      ok: false,
      status: 'unverified',
      verifiedThrough: 8,
      unverifiedAfter: 4,
      firstBad: null,
      chainIntactThrough: 12,
    });
    expect(verifyChain(BASE.rows, [], PUBLIC)).toMatchObject({ ok: false, status: 'unverified', verifiedThrough: 0, unverifiedAfter: 12 });
  });

  it('cannot see a deleted tail that no checkpoint covers: it stays unverified (what it does not prove)', () => {
    const result = verifyChain(BASE.rows.slice(0, 10), BASE.checkpoints.slice(0, 2), PUBLIC);
    expect(result).toMatchObject({ ok: false, status: 'unverified', verifiedThrough: 8, unverifiedAfter: 2, firstBad: null });
  });

  it('verifies the empty log', () => {
    expect(verifyChain([], [], PUBLIC)).toMatchObject({ ok: true, verifiedThrough: 0, unverifiedAfter: 0 });
  });

  for (const c of TAMPER_CASES) {
    it(`detects ${c.name}: FAILED at seq ${c.expected.seq} (${c.expected.reason})`, () => {
      const rows = c.rows(structuredClone(BASE.rows));
      const checkpoints = c.checkpoints ? c.checkpoints([...BASE.checkpoints], rows) : BASE.checkpoints;
      const result = verifyChain(rows, checkpoints, PUBLIC, { node: NODE });
      expect(result.ok).toBe(false);
      expect(result.status).toBe('failed');
      expect({ seq: result.firstBad?.seq, reason: result.firstBad?.reason }).toEqual({ seq: c.expected.seq, reason: c.expected.reason });
      expect(result.verifiedThrough).toBe(c.expected.verifiedThrough);
      expect(result.unverifiedAfter).toBe(rows.length - c.expected.verifiedThrough);
    });
  }

  it('shows why checkpoints matter: a rewritten, rehashed tail is internally consistent', () => {
    const rewrite = TAMPER_CASES.find((c) => c.name.startsWith('row 5 rewritten and every later hash'));
    const rows = rewrite?.rows(structuredClone(BASE.rows)) ?? [];
    expect(verifyChain(rows, [], PUBLIC)).toMatchObject({ status: 'unverified', chainIntactThrough: 12, firstBad: null });
    expect(verifyChain(rows, BASE.checkpoints, PUBLIC)).toMatchObject({ status: 'failed', chainIntactThrough: 12, checkpointsChecked: 1 });
  });

  it('names the lowest bad seq when several things are wrong, and the checkpoint index', () => {
    const rows = structuredClone(BASE.rows);
    rows.splice(9, 1); // seq 10 gone
    const result = verifyChain(rows, ['garbage', ...BASE.checkpoints], PUBLIC);
    expect(result.firstBad).toEqual({ seq: 0, reason: 'CHECKPOINT_MALFORMED', checkpoint: 0 });
    const onlyGap = verifyChain(rows, BASE.checkpoints, PUBLIC);
    expect(onlyGap.firstBad).toEqual({ seq: 10, reason: 'SEQ_GAP' });
    expect(onlyGap.verifiedThrough).toBe(8);
  });

  it('verifies a 10,000-entry chain quickly (time printed, not asserted)', () => {
    const rows = chainEntries(
      null,
      Array.from({ length: 10_000 }, (_, i) => fixtureEntry(i + 1)),
    );
    const head = rows.at(-1);
    if (head === undefined) throw new Error('no head');
    const checkpoint = makeCheckpoint(NODE, head, new Date(T0 + 10_000 * 60_000).toISOString(), KEYS.wmpAudit);
    const started = performance.now();
    const result = verifyChain(rows, [checkpoint], PUBLIC, { node: NODE });
    const ms = performance.now() - started;
    console.log(`verifyChain: 10,000 entries in ${ms.toFixed(1)} ms`);
    expect(result).toMatchObject({ ok: true, verifiedThrough: 10_000 });
  });

  it('agrees with fixtureLog for other checkpoint spacings', () => {
    const { rows, checkpoints } = fixtureLog(7, [7, 3]);
    expect(verifyChain(rows, checkpoints, PUBLIC)).toMatchObject({ ok: true, verifiedThrough: 7, checkpointsChecked: 2 });
  });
});

/** `rows` as a reader paging through them `size` at a time would get them. */
async function* pagesOf(rows: readonly StoredEntry[], size: number) {
  for (let at = 0; at < rows.length; at += size) yield rows.slice(at, at + size);
}

describe("verifyChainPaged (the node's full check, a page at a time)", () => {
  const SIZES = [1, 2, 3, 5, 8, 500];

  it('gives what verifyChain gives for the whole log, whatever the page size', async () => {
    for (const checkpoints of [BASE.checkpoints, BASE.checkpoints.slice(0, 2), [], [...BASE.checkpoints].reverse()])
      for (const size of SIZES)
        expect(await verifyChainPaged(pagesOf(BASE.rows, size), checkpoints, PUBLIC, { node: NODE })).toEqual(
          verifyChain(BASE.rows, checkpoints, PUBLIC, { node: NODE }),
        );
    expect(await verifyChainPaged(pagesOf([], 5), [], PUBLIC)).toEqual(verifyChain([], [], PUBLIC));
  });

  for (const c of TAMPER_CASES) {
    it(`finds ${c.name} as verifyChain does, at every page size`, async () => {
      const rows = c.rows(structuredClone(BASE.rows));
      const checkpoints = c.checkpoints ? c.checkpoints([...BASE.checkpoints], rows) : BASE.checkpoints;
      const whole = verifyChain(rows, checkpoints, PUBLIC, { node: NODE });
      // A database gives rows by seq, each seq once (its key): a duplicate or a reordering cannot come
      // from it. Given one anyway, a page cannot see the row in another page, so the log still fails,
      // but maybe at a neighbouring seq or under another name.
      const asStored = rows.every((r, i) => i === 0 || r.seq > rows[i - 1]!.seq);
      for (const size of SIZES) {
        const paged = await verifyChainPaged(pagesOf(rows, size), checkpoints, PUBLIC, { node: NODE });
        if (asStored) expect(paged).toEqual(whole);
        else expect([paged.status, whole.status]).toEqual(['failed', 'failed']);
      }
    });
  }
});

describe('verifyContinuation (the check a node makes from its last checkpoint before signing the next)', () => {
  const rows = BASE.rows.map((r) => ({ ...r, columns: entryColumns(r.entry) }));
  const at8 = { seq: 8, hash: rows[7]!.hash };

  it('walks the rows after a trusted head and returns the head it reached', () => {
    expect(verifyContinuation(at8, rows.slice(8))).toEqual({ head: { seq: 12, hash: rows[11]!.hash }, firstBad: null });
    expect(verifyContinuation(at8, [])).toEqual({ head: at8, firstBad: null });
    expect(verifyContinuation({ seq: 0, hash: GENESIS_HASH }, rows)).toEqual({ head: { seq: 12, hash: rows[11]!.hash }, firstBad: null });
  });

  it('stops at the first row that does not continue the head: a link, a gap, an edited entry', () => {
    expect(verifyContinuation({ seq: 8, hash: 'f'.repeat(64) }, rows.slice(8))).toEqual({
      head: { seq: 8, hash: 'f'.repeat(64) },
      firstBad: { seq: 9, reason: 'CHAIN_BROKEN' },
    });
    expect(verifyContinuation(at8, rows.slice(9)).firstBad).toEqual({ seq: 9, reason: 'SEQ_GAP' });
    const edited = structuredClone(rows.slice(8));
    edited[1]!.entry.outcome = 'refused';
    expect(verifyContinuation(at8, edited)).toEqual({
      head: { seq: 9, hash: rows[8]!.hash },
      firstBad: { seq: 10, reason: 'ENTRY_HASH_MISMATCH' },
    });
  });

  it('reports the first row whose stored column copy differs from its hashed entry, and walks on', () => {
    const edited = structuredClone(rows.slice(8));
    edited[2]!.columns!.actorSubject = 'officer-9';
    edited[3]!.columns!.caseRef = null;
    expect(verifyContinuation(at8, edited)).toEqual({
      head: { seq: 12, hash: rows[11]!.hash },
      firstBad: { seq: 11, reason: 'COLUMN_MISMATCH', column: 'actorSubject' },
    });
  });

  it('a rewritten and rehashed tail continues its own head: only a checkpoint or a remembered head shows it', () => {
    const forged = structuredClone(rows.slice(8));
    forged[0]!.entry.outcome = 'refused';
    forged[0]!.columns!.outcome = 'refused';
    let prev = at8.hash;
    for (const r of forged) {
      r.prevHash = prev;
      r.hash = entryHash(prev, r.seq, r.entry);
      prev = r.hash;
    }
    const result = verifyContinuation(at8, forged);
    expect(result.firstBad).toBeNull();
    expect(result.head.hash).not.toBe(rows[11]!.hash);
  });
});

describe('columnMismatch', () => {
  it('names the first column copy that differs, and treats a malformed entry or row as a mismatch', () => {
    const entry = BASE.rows[0]!.entry;
    expect(columnMismatch(entry, entryColumns(entry))).toBeNull();
    expect(columnMismatch(entry, { ...entryColumns(entry), requestingNode: 'WMP' })).toBe('requestingNode');
    expect(columnMismatch(entry, { ...entryColumns(entry), recordIds: [...entry.recordIds, 'rec-x'] })).toBe('recordIds');
    expect(columnMismatch(entry, { ...entryColumns(entry), recordIds: 'rec-1' as never })).toBe('recordIds');
    expect(columnMismatch({} as never, entryColumns(entry))).toBe('at');
    expect(columnMismatch(entry, {} as never)).toBe('at');
  });
});
