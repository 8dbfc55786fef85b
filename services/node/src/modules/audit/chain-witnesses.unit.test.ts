// A node's check of its own log across rotations of its audit-checkpoint key: a retired key vouches
// only for what the current key's first checkpoint covers, a checkpoint under any other key neither
// vouches nor hides a real break, and a retired key the manifest revoked vouches for nothing.
import { describe, expect, it } from 'vitest';

import { chainEntries, makeCheckpoint, type AuditEntryInput, type StoredEntry } from '@mcx/audit';
import { generateSigningKey, toPublicKey } from '@mcx/signing';

import { verifyOwnChain } from './chain-witnesses.js';

const entry = (i: number): AuditEntryInput => ({
  at: new Date(Date.UTC(2026, 10, 20, 10, 0, i)).toISOString(),
  action: 'consultation',
  actor: { subject: `inv-${i}`, issuer: 'https://login.example/wmp', force: 'WMP', orgKind: 'police', roles: ['investigator'] },
  requestingNode: null,
  purpose: 'MISSING_LIVE_SEARCH',
  caseRef: 'WMP-26-1001',
  query: { operation: 'localEpisode', recordIds: [`WMP/r-${i}`], linkageDigest: null },
  recordIds: [`WMP/r-${i}`],
  outcome: 'success',
  reason: null,
});

const current = generateSigningKey('audit-checkpoint');
const retired = generateSigningKey('audit-checkpoint');
const stranger = generateSigningKey('audit-checkpoint');
const rows = chainEntries(
  null,
  Array.from({ length: 6 }, (_, i) => entry(i + 1)),
);
const at = (rowsNow: StoredEntry[], seq: number, key: typeof current) =>
  makeCheckpoint('WMP', { seq, hash: rowsNow[seq - 1]!.hash }, '2026-11-20T11:00:00.000Z', key);
const keys = { node: 'WMP', auditKey: current, retiredAuditKeys: [toPublicKey(retired)] };
/** The node reads its log a page at a time: two rows a page here, so checkpoints fall inside and at the ends of pages. */
async function* pagesOf(rowsNow: StoredEntry[]) {
  for (let i = 0; i < rowsNow.length; i += 2) yield rowsNow.slice(i, i + 2);
}
const own = (rowsNow: StoredEntry[], checkpoints: string[], k: Parameters<typeof verifyOwnChain>[2]) =>
  verifyOwnChain(pagesOf(rowsNow), checkpoints, k);

describe("a node's check of its own log, across a rotation of its audit key", () => {
  it('counts the retired key up to the current key’s first checkpoint, and nothing it signed past it', async () => {
    // Rotated after entry 2; the current key signed at 4; a checkpoint at 6 under the retired key could only be forged.
    const checkpoints = [at(rows, 2, retired), at(rows, 4, current), at(rows, 6, retired)];
    expect(await own(rows, checkpoints, keys)).toMatchObject({ status: 'unverified', verifiedThrough: 4, checkpointsChecked: 2 });
    expect(await own(rows, [...checkpoints, at(rows, 6, current)], keys)).toMatchObject({ status: 'ok', verifiedThrough: 6 });
    // No checkpoint under the current key yet: the retired key's vouch for nothing (unverified, not failed).
    expect(await own(rows, [at(rows, 2, retired)], keys)).toMatchObject({ status: 'unverified', verifiedThrough: 0 });
  });

  it('a checkpoint under a key it does not hold neither vouches nor hides a break below it', async () => {
    const checkpoints = [at(rows, 1, stranger), at(rows, 2, retired), at(rows, 6, current)];
    expect(await own(rows, checkpoints, keys)).toMatchObject({ status: 'ok', firstBad: null });
    // Entry 3 changed in the database: the break is named, not the stranger's checkpoint at 1.
    const changed = rows.map((r) => (r.seq === 3 ? { ...r, entry: { ...r.entry, caseRef: 'WMP-26-9999' } } : r));
    expect((await own(changed, checkpoints, keys)).firstBad).toMatchObject({ seq: 3, reason: 'ENTRY_HASH_MISMATCH' });
  });

  it('a retired key the manifest revoked, or whose file is gone, vouches for nothing', async () => {
    const checkpoints = [at(rows, 2, retired), at(rows, 4, current)];
    const revoked = { ...keys, isRevokedKey: (kid: string) => kid === retired.kid };
    expect(await own(rows, checkpoints, revoked)).toMatchObject({ status: 'unverified', verifiedThrough: 4, checkpointsChecked: 1 });
    expect(await own(rows, checkpoints, { ...keys, retiredAuditKeys: [] })).toMatchObject({ verifiedThrough: 4, firstBad: null });
  });
});
