/**
 * The record locator's membership filter (mcx.filter/2): a Bloom filter over the linkage keys a
 * member holds, signed by the member, so a caller asks only the members that may hold a child.
 *
 * Bit indices come from HMAC-SHA-256 keyed with a random salt of each filter, over the key's
 * version and the key. Linkage keys are already uniformly random OPRF outputs, so any good hash
 * spreads them evenly; the per-filter salt is there for privacy: two filters (two members, or one
 * member's two versions) set unrelated bits for the same key, so nobody can intersect filters to
 * see that two members hold the same child, or follow one key across versions, without the key.
 * A filter holds only bits: never a key, never a hash of one that could be compared elsewhere.
 *
 * The filter travels as a compact JWS (`typ` mcx-filter+jws, the member's audit-checkpoint key)
 * whose payload names the owner, version, issue time, parameters, salt and the SHA-256 of the
 * bits; the bits travel beside it, so they are not base64-encoded twice.
 */
import { createHash, createHmac, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';

import { z } from 'zod';

import { canonicalJson, parseCanonicalJson, type KeyResolver, type SigningKey } from '@mcx/signing';

import { GEO_GRID } from './geo-cells.js';

/** The JWS `typ` of a membership filter: signed with the audit-checkpoint key, never a receipt or checkpoint. */
export const FILTER_TYP = 'mcx-filter+jws';
/**
 * The JWS `typ` of an owner's statement that its filter version was current when it last checked
 * its keys: the caller counts a filter's age from this signed time, never from when it asked.
 */
export const FILTER_CURRENT_TYP = 'mcx-filter-current+jws';

/** The false-positive rate a filter stays under. */
export const FILTER_FALSE_POSITIVE_RATE = 0.01;
/** The rate filters are sized for: below the bound, so rounding and chance keep a filter under it (about 10 bits a key). */
const SIZING_RATE = 0.008;

/** The most hash functions a filter may use (at 1% the optimum is 7). */
const MAX_K = 16;
const SALT_BYTES = 16;

/** Why a caller refused a member's filter (the member keeps its previous filter, or none). */
export const FilterRefusal = {
  /** No JWS, or not a compact JWS with a payload. */
  FILTER_UNSIGNED: 'FILTER_UNSIGNED',
  /** The answer, header or payload does not parse, or its parameters are impossible. */
  FILTER_MALFORMED: 'FILTER_MALFORMED',
  /** The JWS header's `typ` is not mcx-filter+jws (a receipt or record signature reused). */
  FILTER_WRONG_TYP: 'FILTER_WRONG_TYP',
  /** The signature does not verify against the key it names. */
  FILTER_BAD_SIGNATURE: 'FILTER_BAD_SIGNATURE',
  /** The key is unknown, revoked or not an audit-checkpoint key. */
  FILTER_UNKNOWN_KEY: 'FILTER_UNKNOWN_KEY',
  /** Signed by another member's key, or naming another owner than the member that answered. */
  FILTER_WRONG_OWNER: 'FILTER_WRONG_OWNER',
  /** More bits than the caller accepts. */
  FILTER_TOO_LARGE: 'FILTER_TOO_LARGE',
  /** The bits are not the ones the signature covers. */
  FILTER_BITS_MISMATCH: 'FILTER_BITS_MISMATCH',
  /** Issued (or checked) later than now allows (clock skew). */
  FILTER_FROM_FUTURE: 'FILTER_FROM_FUTURE',
  /** No valid signed statement of when the owner last checked this filter (or it names another version or filter). */
  FILTER_UNCONFIRMED: 'FILTER_UNCONFIRMED',
  /** A lower version than the one already held, not vouched for later than the held one: an old filter replayed. */
  FILTER_ROLLBACK: 'FILTER_ROLLBACK',
  /** The owner says its last successful check of its keys is too old to vouch for any filter (LOCATOR_STALE). */
  FILTER_OWNER_STALE: 'FILTER_OWNER_STALE',
} as const;
export type FilterRefusal = (typeof FilterRefusal)[keyof typeof FilterRefusal];

/** The member of a filter: one linkage key, by its version and value (what matching compares). */
export function filterItem(k: { keyVersion: string; key: string }): string {
  return `${k.keyVersion}\n${k.key}`;
}

/** Bits and hash functions for `n` items at expected false-positive rate `p` (bits a multiple of 8, at least 64). */
export function filterSize(n: number, p = SIZING_RATE): { m: number; k: number } {
  const items = Math.max(1, n);
  const bits = Math.ceil((-items * Math.log(p)) / Math.LN2 ** 2);
  const m = Math.max(64, Math.ceil(bits / 8) * 8);
  const k = Math.min(MAX_K, Math.max(1, Math.round((m / items) * Math.LN2)));
  return { m, k };
}

/** A Bloom filter with salted HMAC-SHA-256 indices. */
export class MembershipFilter {
  private constructor(
    readonly m: number,
    readonly k: number,
    readonly salt: Buffer,
    readonly bits: Uint8Array,
  ) {}

  /** A filter holding `items`, sized to stay under FILTER_FALSE_POSITIVE_RATE, with a fresh random salt. */
  static build(items: readonly string[], p = SIZING_RATE): MembershipFilter {
    const { m, k } = filterSize(items.length, p);
    const f = new MembershipFilter(m, k, randomBytes(SALT_BYTES), new Uint8Array(m / 8));
    for (const item of items) f.add(item);
    return f;
  }

  /** As build, yielding to the event loop every `slice` items, so a node with many subjects goes on answering while it rebuilds. */
  static async buildYielding(items: readonly string[], slice = 4096, p = SIZING_RATE): Promise<MembershipFilter> {
    const { m, k } = filterSize(items.length, p);
    const f = new MembershipFilter(m, k, randomBytes(SALT_BYTES), new Uint8Array(m / 8));
    for (let start = 0; start < items.length; start += slice) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const item of items.slice(start, start + slice)) f.add(item);
    }
    return f;
  }

  private add(item: string): void {
    for (const i of this.indices(item)) this.bits[i >>> 3]! |= 1 << (i & 7);
  }

  /** A received filter's parts, already checked. */
  static from(m: number, k: number, salt: Buffer, bits: Uint8Array): MembershipFilter {
    return new MembershipFilter(m, k, salt, bits);
  }

  /** The k bit indices of an item: 32-bit words of HMAC(salt, block || item), each modulo m. */
  private indices(item: string): number[] {
    const out: number[] = [];
    for (let block = 0; out.length < this.k; block += 1) {
      const mac = createHmac('sha256', this.salt).update(String(block)).update('\n').update(item).digest();
      for (let w = 0; w < 8 && out.length < this.k; w += 1) out.push(mac.readUInt32BE(w * 4) % this.m);
    }
    return out;
  }

  /** False: the owner does not hold the item. True: it may (or this is one of the ~1% false positives). */
  mayContain(item: string): boolean {
    return this.indices(item).every((i) => (this.bits[i >>> 3]! & (1 << (i & 7))) !== 0);
  }

  /** True when any of the items may be held. */
  mayContainAny(items: readonly string[]): boolean {
    return items.some((i) => this.mayContain(i));
  }

  /** The share of bits set (for the operator's view; a full filter matches everything). */
  fill(): number {
    let set = 0;
    for (const byte of this.bits) for (let b = byte; b; b &= b - 1) set += 1;
    return set / this.m;
  }
}

const b64 = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('base64url');

/** The signed statement: whose filter, which version, when, its parameters and a digest of its bits. */
const FilterPayload = z.strictObject({
  node: z.string().min(1).max(64),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issuedAt: z.iso.datetime({ offset: true }),
  m: z.number().int().min(64),
  k: z.number().int().min(1).max(MAX_K),
  n: z.number().int().min(0),
  salt: z.string().length(Math.ceil((SALT_BYTES * 4) / 3)),
  bits: z.string().length(43),
  /** Set when the filter also holds the grid cells of the member's locations of concern (geo-cells.ts). */
  geo: z.literal(GEO_GRID).optional(),
});
export type FilterPayload = z.infer<typeof FilterPayload>;

/** A filter as it is served: the JWS and the bits it covers. */
export interface SignedFilter {
  version: number;
  issuedAt: string;
  jws: string;
  bits: string;
}

/** Signs a filter as `node`'s version `version`, issued at `issuedAt`, over `n` items. */
export function signFilter(
  f: MembershipFilter,
  meta: { node: string; version: number; issuedAt: Date; n: number; geo?: boolean },
  key: SigningKey<'audit-checkpoint'>,
): SignedFilter {
  const issuedAt = meta.issuedAt.toISOString();
  const payload: FilterPayload = {
    node: meta.node,
    version: meta.version,
    issuedAt,
    m: f.m,
    k: f.k,
    n: meta.n,
    salt: b64(f.salt),
    bits: sha256(f.bits),
    ...(meta.geo ? { geo: GEO_GRID } : {}),
  };
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: FILTER_TYP }));
  const body = b64(canonicalJson(payload));
  const signature = sign(null, Buffer.from(`${header}.${body}`), key.privateKey).toString('base64url');
  return { version: meta.version, issuedAt, jws: `${header}.${body}.${signature}`, bits: b64(f.bits) };
}

/** mcx.filter/2's answer: the member's current filter, or that the caller's version is still current. */
export const PeerFilterAnswer = z.strictObject({
  version: z.number().int().min(0),
  notModified: z.boolean(),
  jws: z.string().max(4096).nullable(),
  bits: z.string().nullable(),
  /** The owner's signed statement (mcx-filter-current+jws) that `version` was current at its last check. */
  current: z.string().max(2048).nullable(),
});
export type PeerFilterAnswer = z.infer<typeof PeerFilterAnswer>;

export interface FilterCheck {
  /** The member that answered. */
  member: string;
  /** The manifest's keys (audit-checkpoint job). */
  resolve: KeyResolver;
  /** The member that owns a kid in the manifest. */
  ownerOfKid: (kid: string) => string | undefined;
  maxBytes: number;
  now: Date;
  skewMs?: number;
}

export interface VerifiedFilter {
  filter: MembershipFilter;
  payload: FilterPayload;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Checks a compact JWS of `typ` signed by the member's own audit-checkpoint key; returns its payload text. */
function verifyMemberJws(jws: unknown, typ: string, c: FilterCheck): { payload: string } | { refused: FilterRefusal } {
  const refused = (r: FilterRefusal) => ({ refused: r });
  if (typeof jws !== 'string' || jws.length === 0) return refused(FilterRefusal.FILTER_UNSIGNED);
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return refused(FilterRefusal.FILTER_UNSIGNED);
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown> | null;
  if (!header || typeof header !== 'object' || header.alg !== 'EdDSA' || typeof header.kid !== 'string')
    return refused(FilterRefusal.FILTER_MALFORMED);
  if (header.typ !== typ) return refused(FilterRefusal.FILTER_WRONG_TYP);
  const lookup = c.resolve(header.kid);
  if (!lookup.found || lookup.job !== 'audit-checkpoint') return refused(FilterRefusal.FILTER_UNKNOWN_KEY);
  if (c.ownerOfKid(header.kid) !== c.member) return refused(FilterRefusal.FILTER_WRONG_OWNER);
  if (!verify(null, Buffer.from(`${h}.${p}`), lookup.publicKey, Buffer.from(s, 'base64url')))
    return refused(FilterRefusal.FILTER_BAD_SIGNATURE);
  return { payload: Buffer.from(p, 'base64url').toString('utf8') };
}

/** Verifies a served filter: signed by the member's own key under mcx-filter+jws, bounded, its bits the signed ones. */
export function verifyFilter(jws: unknown, bits: unknown, c: FilterCheck): VerifiedFilter | { refused: FilterRefusal } {
  const refused = (r: FilterRefusal) => ({ refused: r });
  const signed = verifyMemberJws(jws, FILTER_TYP, c);
  if ('refused' in signed) return signed;
  const parsed = parseCanonicalJson(signed.payload);
  const payload = parsed.canonical ? FilterPayload.safeParse(parsed.value) : null;
  if (!payload?.success || payload.data.m % 8 !== 0) return refused(FilterRefusal.FILTER_MALFORMED);
  const f = payload.data;
  if (f.node !== c.member) return refused(FilterRefusal.FILTER_WRONG_OWNER);
  if (f.m / 8 > c.maxBytes) return refused(FilterRefusal.FILTER_TOO_LARGE);
  if (Date.parse(f.issuedAt) > c.now.getTime() + (c.skewMs ?? 30_000)) return refused(FilterRefusal.FILTER_FROM_FUTURE);
  // Bounded before it is decoded: base64url of m/8 bytes.
  if (typeof bits !== 'string' || bits.length !== Math.ceil((f.m / 8) * (4 / 3))) return refused(FilterRefusal.FILTER_BITS_MISMATCH);
  const raw = Buffer.from(bits, 'base64url');
  const digest = Buffer.from(sha256(raw));
  if (raw.length !== f.m / 8 || !timingSafeEqual(digest, Buffer.from(f.bits))) return refused(FilterRefusal.FILTER_BITS_MISMATCH);
  const salt = Buffer.from(f.salt, 'base64url');
  if (salt.length !== SALT_BYTES) return refused(FilterRefusal.FILTER_MALFORMED);
  return { filter: MembershipFilter.from(f.m, f.k, salt, new Uint8Array(raw)), payload: f };
}

/** The owner's statement: filter `version` of `node`, the JWS with this digest, was the current one when it checked its keys at `checkedAt`. */
const CurrentPayload = z.strictObject({
  node: z.string().min(1).max(64),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  filter: z.string().length(43),
  checkedAt: z.iso.datetime({ offset: true }),
});

/** The digest a statement names its filter by: SHA-256 of the filter's JWS (which covers the bits' digest). */
export function filterDigest(jws: string): string {
  return sha256(Buffer.from(jws));
}

/**
 * Signs that the filter `jws` (version `version`) was current at `checkedAt` (taken before the
 * check read the keys). Naming the filter, not only its version, keeps one replica's statement
 * from vouching for another replica's filter of the same version.
 */
export function signFilterCurrent(
  meta: { node: string; version: number; jws: string; checkedAt: Date },
  key: SigningKey<'audit-checkpoint'>,
): string {
  const payload = { node: meta.node, version: meta.version, filter: filterDigest(meta.jws), checkedAt: meta.checkedAt.toISOString() };
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: FILTER_CURRENT_TYP }));
  const body = b64(canonicalJson(payload));
  return `${header}.${body}.${sign(null, Buffer.from(`${header}.${body}`), key.privateKey).toString('base64url')}`;
}

/** A statement is allowed this much ahead of the caller's clock (a few seconds, well under any filter age). */
const CURRENT_SKEW_MS = 5_000;

/**
 * Verifies an owner's statement that a filter was current: the member's own key, that version and
 * that filter (by the digest of its JWS), a checked time not in the future. Returns when, by the
 * owner's clock, it was current (ms).
 */
export function verifyFilterCurrent(
  jws: unknown,
  filter: { version: number; digest: string },
  c: FilterCheck,
): { checkedAt: number } | { refused: FilterRefusal } {
  if (jws === null || jws === undefined) return { refused: FilterRefusal.FILTER_UNCONFIRMED };
  const signed = verifyMemberJws(jws, FILTER_CURRENT_TYP, c);
  if ('refused' in signed) return signed;
  const parsed = parseCanonicalJson(signed.payload);
  const payload = parsed.canonical ? CurrentPayload.safeParse(parsed.value) : null;
  if (!payload?.success) return { refused: FilterRefusal.FILTER_MALFORMED };
  if (payload.data.node !== c.member) return { refused: FilterRefusal.FILTER_WRONG_OWNER };
  if (payload.data.version !== filter.version || payload.data.filter !== filter.digest)
    return { refused: FilterRefusal.FILTER_UNCONFIRMED };
  const checkedAt = Date.parse(payload.data.checkedAt);
  if (checkedAt > c.now.getTime() + Math.min(c.skewMs ?? CURRENT_SKEW_MS, CURRENT_SKEW_MS))
    return { refused: FilterRefusal.FILTER_FROM_FUTURE };
  return { checkedAt };
}
