import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { canonicalJson } from '@mcx/signing';

import { chainEntries, chainEntry, entryHash, GENESIS_HASH } from './chain.js';
import { parseAuditEntry } from './entry.js';
import { fixtureEntry, fixtureLog } from './fixtures/audit-log.js';
import { thrownCode } from './fixtures/thrown-code.js';

/** The formula, written out again here so the test does not trust the code under test. */
function sha256hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('hash chain', () => {
  it('chains entry 1 from the all-zero genesis with sha256hex(prevHash \\n canonicalJson({ seq, ...entry }))', () => {
    const stored = chainEntry(null, fixtureEntry(1));
    const entry = parseAuditEntry(fixtureEntry(1));
    expect(stored.seq).toBe(1);
    expect(stored.prevHash).toBe('0'.repeat(64));
    expect(stored.prevHash).toBe(GENESIS_HASH);
    expect(stored.entry).toEqual(entry);
    expect(stored.hash).toBe(sha256hex(`${'0'.repeat(64)}\n${canonicalJson({ seq: 1, ...entry })}`));
    expect(stored.hash).toBe('c1b25e671b2561f50af20e94dfc287c6be5ba906bf04bae899aa9b15938cd2ac');
  });

  it('links each entry to the one before, and pins the head of the fixture log', () => {
    const { rows } = fixtureLog(12, []);
    rows.forEach((row, i) => {
      expect(row.seq).toBe(i + 1);
      expect(row.prevHash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]?.hash);
      expect(row.hash).toBe(sha256hex(`${row.prevHash}\n${canonicalJson({ seq: row.seq, ...row.entry })}`));
    });
    expect(rows.at(-1)?.hash).toBe('c8e38ddf58a817b6d25046291582f6d6809c38c020da8bbf80a7269fe6964595');
  });

  it('appends a batch exactly as one-by-one appends, continuing from a head', () => {
    const entries = [1, 2, 3, 4, 5].map((n) => fixtureEntry(n));
    const batch = chainEntries(null, entries);
    let head = null;
    for (const [i, entry] of entries.entries()) {
      head = chainEntry(head, entry);
      expect(head).toEqual(batch[i]);
    }
    const [first, ...rest] = [chainEntries(null, entries.slice(0, 2)), chainEntries(batch[1] ?? null, entries.slice(2))];
    expect([...first, ...rest.flat()]).toEqual(batch);
    expect(chainEntries(batch[4] ?? null, [])).toEqual([]);
  });

  it('is all or nothing: one invalid entry in a batch throws before any is returned', () => {
    const entries = [fixtureEntry(1), { ...fixtureEntry(2), action: 'peek' as never }];
    expect(thrownCode(() => chainEntries(null, entries))).toBe('AUDIT_ENTRY_INVALID');
  });

  it('refuses a malformed head', () => {
    expect(thrownCode(() => chainEntry({ seq: 1, hash: 'sha256:abc' }, fixtureEntry(2)))).toBe('CHAIN_HEAD_INVALID');
    expect(thrownCode(() => chainEntry({ seq: -1, hash: GENESIS_HASH }, fixtureEntry(2)))).toBe('CHAIN_HEAD_INVALID');
    expect(thrownCode(() => chainEntry({ seq: 0, hash: 'a'.repeat(64) }, fixtureEntry(1)))).toBe('CHAIN_HEAD_INVALID');
    expect(chainEntry({ seq: 0, hash: GENESIS_HASH }, fixtureEntry(1))).toEqual(chainEntry(null, fixtureEntry(1)));
  });

  it('binds the seq into the hash, even if an entry smuggles its own seq', () => {
    const entry = parseAuditEntry(fixtureEntry(1));
    expect(entryHash(GENESIS_HASH, 1, entry)).not.toBe(entryHash(GENESIS_HASH, 2, entry));
    expect(entryHash(GENESIS_HASH, 1, { ...entry, seq: 2 } as never)).toBe(entryHash(GENESIS_HASH, 1, entry));
  });
});
