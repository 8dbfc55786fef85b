import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { generateSigningKey, keyResolverFromKeys, signReceipt, toPublicKey, type KeyResolver } from '@mcx/signing';

import {
  FILTER_FALSE_POSITIVE_RATE,
  filterDigest,
  filterItem,
  FilterRefusal,
  filterSize,
  MembershipFilter,
  signFilter,
  signFilterCurrent,
  verifyFilter,
  verifyFilterCurrent,
  type FilterCheck,
} from './filter-wire.js';
import { GEO_GRID, geoCell } from './geo-cells.js';

/** A linkage key as the OPRF gives it: 32 uniformly random bytes, base64url. */
const randomKey = () => ({ keyVersion: 'k1', key: randomBytes(32).toString('base64url') });

describe('the membership filter', () => {
  it('is sized for at most 1% false positives: measured over 100,000 keys it does not hold', () => {
    const held = Array.from({ length: 20_000 }, randomKey);
    const f = MembershipFilter.build(held.map(filterItem));
    expect(f.k).toBe(7);
    // No false negatives, ever.
    expect(held.every((k) => f.mayContain(filterItem(k)))).toBe(true);
    let positives = 0;
    for (let i = 0; i < 100_000; i += 1) if (f.mayContain(filterItem(randomKey()))) positives += 1;
    const rate = positives / 100_000;
    expect(rate).toBeLessThanOrEqual(FILTER_FALSE_POSITIVE_RATE);
    // And not vacuously: a filter of this size does set bits that random keys hit now and then.
    expect(rate).toBeGreaterThan(0.002);
  });

  it('built in slices (yielding between them), holds every key and the same share of bits', async () => {
    const held = Array.from({ length: 10_000 }, randomKey).map(filterItem);
    let yields = 0;
    const ticking = setInterval(() => (yields += 1), 0);
    const f = await MembershipFilter.buildYielding(held, 1000);
    clearInterval(ticking);
    expect(held.every((k) => f.mayContain(k))).toBe(true);
    expect(f.fill()).toBeCloseTo(MembershipFilter.build(held).fill(), 2);
    // Timers ran while it was being built: the event loop was not held for the whole build.
    expect(yields).toBeGreaterThan(0);
  });

  it('costs about 10 bits a key, and an empty member still has a (tiny) filter', () => {
    expect(filterSize(100_000).m / 100_000).toBeCloseTo(10.05, 1);
    expect(filterSize(0)).toEqual({ m: 64, k: 16 });
    const empty = MembershipFilter.build([]);
    expect(empty.mayContain(filterItem(randomKey()))).toBe(false);
  });

  it('sets unrelated bits for the same key in two filters (a salt each), and keys depend on their version', () => {
    const keys = Array.from({ length: 50 }, randomKey).map(filterItem);
    const a = MembershipFilter.build(keys);
    const b = MembershipFilter.build(keys);
    expect(Buffer.from(a.bits).equals(Buffer.from(b.bits))).toBe(false);
    const one = { keyVersion: 'k1', key: randomBytes(32).toString('base64url') };
    const only = MembershipFilter.build([filterItem(one)]);
    expect(only.mayContain(filterItem({ ...one, keyVersion: 'k2' }))).toBe(false);
  });
});

describe('a signed filter', () => {
  const gmp = generateSigningKey('audit-checkpoint');
  const mps = generateSigningKey('audit-checkpoint');
  const gmpRecord = generateSigningKey('record');
  const resolve: KeyResolver = keyResolverFromKeys([toPublicKey(gmp), toPublicKey(mps), toPublicKey(gmpRecord)]);
  const owners: Record<string, string> = { [gmp.kid]: 'GMP', [mps.kid]: 'MPS', [gmpRecord.kid]: 'GMP' };
  const check: FilterCheck = { member: 'GMP', resolve, ownerOfKid: (kid) => owners[kid], maxBytes: 1024 * 1024, now: new Date() };
  const held = Array.from({ length: 100 }, randomKey);
  const filter = MembershipFilter.build(held.map(filterItem));
  const signed = signFilter(filter, { node: 'GMP', version: 7, issuedAt: new Date(), n: held.length }, gmp);
  const refusal = (r: ReturnType<typeof verifyFilter>) => ('refused' in r ? r.refused : 'ACCEPTED');

  it('verifies against the owner key and matches what the owner holds, and nothing in it is a key', () => {
    const v = verifyFilter(signed.jws, signed.bits, check);
    if ('refused' in v) throw new Error(v.refused);
    expect(v.payload).toMatchObject({ node: 'GMP', version: 7, n: 100, k: 7 });
    expect(held.every((k) => v.filter.mayContain(filterItem(k)))).toBe(true);
    const served = JSON.stringify(signed);
    for (const k of held) expect(served).not.toContain(k.key);
  });

  it('says, signed, whether it also holds the grid cells of locations of concern (a filter without says nothing of places)', () => {
    const plain = verifyFilter(signed.jws, signed.bits, check);
    if ('refused' in plain) throw new Error(plain.refused);
    expect(plain.payload.geo).toBeUndefined();
    const withCells = MembershipFilter.build([...held.map(filterItem), filterItem(geoCell(53.8175, -3.051))]);
    const geo = signFilter(withCells, { node: 'GMP', version: 8, issuedAt: new Date(), n: held.length + 1, geo: true }, gmp);
    const v = verifyFilter(geo.jws, geo.bits, check);
    if ('refused' in v) throw new Error(v.refused);
    expect(v.payload.geo).toBe(GEO_GRID);
    expect(v.filter.mayContain(filterItem(geoCell(53.8176, -3.0511)))).toBe(true);
    // The grid is signed: a payload naming another grid is refused as malformed.
    const [header, payload, sig] = geo.jws.split('.') as [string, string, string];
    const edited = Buffer.from(Buffer.from(payload, 'base64url').toString().replace(GEO_GRID, 'cell-1deg')).toString('base64url');
    expect(refusal(verifyFilter(`${header}.${edited}.${sig}`, geo.bits, check))).not.toBe('ACCEPTED');
  });

  it('is refused unsigned, malformed or with another typ', () => {
    expect(refusal(verifyFilter(null, signed.bits, check))).toBe(FilterRefusal.FILTER_UNSIGNED);
    expect(refusal(verifyFilter('not-a-jws', signed.bits, check))).toBe(FilterRefusal.FILTER_UNSIGNED);
    const [, payload, sig] = signed.jws.split('.');
    expect(refusal(verifyFilter(`e30.${payload}.${sig}`, signed.bits, check))).toBe(FilterRefusal.FILTER_MALFORMED);
    // A disclosure receipt signed by the same key is not a filter.
    const receipt = signReceipt(
      {
        node: 'GMP',
        to: 'WMP',
        jti: 'j',
        callerEntry: 'WMP:1',
        entry: { id: 'GMP:1', hash: 'h' },
        checkpoint: null,
        at: new Date().toISOString(),
      },
      gmp,
    );
    expect(refusal(verifyFilter(receipt, signed.bits, check))).toBe(FilterRefusal.FILTER_WRONG_TYP);
  });

  it('is refused when tampered: bits flipped, payload edited, signature from an unknown key', () => {
    const flipped = Buffer.from(signed.bits, 'base64url');
    flipped[0] = flipped[0]! ^ 0xff;
    expect(refusal(verifyFilter(signed.jws, flipped.toString('base64url'), check))).toBe(FilterRefusal.FILTER_BITS_MISMATCH);
    expect(refusal(verifyFilter(signed.jws, signed.bits.slice(1), check))).toBe(FilterRefusal.FILTER_BITS_MISMATCH);
    const [header, payload, sig] = signed.jws.split('.') as [string, string, string];
    const edited = Buffer.from(Buffer.from(payload, 'base64url').toString('utf8').replace('"version":7', '"version":8')).toString(
      'base64url',
    );
    expect(refusal(verifyFilter(`${header}.${edited}.${sig}`, signed.bits, check))).toBe(FilterRefusal.FILTER_BAD_SIGNATURE);
    const stranger = signFilter(filter, { node: 'GMP', version: 7, issuedAt: new Date(), n: 100 }, generateSigningKey('audit-checkpoint'));
    expect(refusal(verifyFilter(stranger.jws, stranger.bits, check))).toBe(FilterRefusal.FILTER_UNKNOWN_KEY);
  });

  it("is refused from the wrong owner: another member's key, or naming another owner", () => {
    const byMps = signFilter(filter, { node: 'GMP', version: 7, issuedAt: new Date(), n: 100 }, mps);
    expect(refusal(verifyFilter(byMps.jws, byMps.bits, check))).toBe(FilterRefusal.FILTER_WRONG_OWNER);
    const naming = signFilter(filter, { node: 'MPS', version: 7, issuedAt: new Date(), n: 100 }, gmp);
    expect(refusal(verifyFilter(naming.jws, naming.bits, check))).toBe(FilterRefusal.FILTER_WRONG_OWNER);
  });

  it('is refused oversized (before its bits are read) and issued in the future', () => {
    const huge = MembershipFilter.from(8 * 2 * 1024 * 1024, 7, randomBytes(16), new Uint8Array(8));
    const big = signFilter(huge, { node: 'GMP', version: 9, issuedAt: new Date(), n: 1 }, gmp);
    expect(refusal(verifyFilter(big.jws, big.bits, check))).toBe(FilterRefusal.FILTER_TOO_LARGE);
    const later = signFilter(filter, { node: 'GMP', version: 9, issuedAt: new Date(Date.now() + 3_600_000), n: 100 }, gmp);
    expect(refusal(verifyFilter(later.jws, later.bits, check))).toBe(FilterRefusal.FILTER_FROM_FUTURE);
  });

  it("states when the owner last found a filter current, refused for another version or filter, another member's key, another typ or a future time", () => {
    // The describe's check was made when the file was collected; this test's clock is now.
    const now = { ...check, now: new Date() };
    const checkedAt = new Date(Date.now() - 4_000);
    const ours = { version: 7, digest: filterDigest(signed.jws) };
    const statement = (meta: { node?: string; version?: number; jws?: string; at?: Date }, key = gmp) =>
      signFilterCurrent(
        { node: meta.node ?? 'GMP', version: meta.version ?? 7, jws: meta.jws ?? signed.jws, checkedAt: meta.at ?? checkedAt },
        key,
      );
    const current = statement({});
    expect(verifyFilterCurrent(current, ours, now)).toEqual({ checkedAt: checkedAt.getTime() });
    const refusedAs = (r: ReturnType<typeof verifyFilterCurrent>) => ('refused' in r ? r.refused : 'ACCEPTED');
    expect(refusedAs(verifyFilterCurrent(null, ours, now))).toBe(FilterRefusal.FILTER_UNCONFIRMED);
    // A statement about version 7 does not vouch for version 8.
    expect(refusedAs(verifyFilterCurrent(current, { ...ours, version: 8 }, now))).toBe(FilterRefusal.FILTER_UNCONFIRMED);
    // Nor for another filter of the same version (another replica's build, another salt).
    const twin = signFilter(MembershipFilter.build(held.map(filterItem)), { node: 'GMP', version: 7, issuedAt: new Date(), n: 100 }, gmp);
    expect(refusedAs(verifyFilterCurrent(statement({ jws: twin.jws }), ours, now))).toBe(FilterRefusal.FILTER_UNCONFIRMED);
    expect(refusedAs(verifyFilterCurrent(statement({}, mps), ours, now))).toBe(FilterRefusal.FILTER_WRONG_OWNER);
    expect(refusedAs(verifyFilterCurrent(statement({ node: 'MPS' }), ours, now))).toBe(FilterRefusal.FILTER_WRONG_OWNER);
    // The filter itself (same key, another typ) is not a statement that it is current.
    expect(refusedAs(verifyFilterCurrent(signed.jws, ours, now))).toBe(FilterRefusal.FILTER_WRONG_TYP);
    const [header, payload, sig] = current.split('.') as [string, string, string];
    const later = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace(checkedAt.toISOString(), new Date().toISOString()),
    );
    expect(refusedAs(verifyFilterCurrent(`${header}.${later.toString('base64url')}.${sig}`, ours, now))).toBe(
      FilterRefusal.FILTER_BAD_SIGNATURE,
    );
    // More than a few seconds ahead of this clock: refused, however long the caller's own skew allowance.
    const ahead = statement({ at: new Date(Date.now() + 20_000) });
    expect(refusedAs(verifyFilterCurrent(ahead, ours, { ...now, skewMs: 60_000 }))).toBe(FilterRefusal.FILTER_FROM_FUTURE);
  });
});
