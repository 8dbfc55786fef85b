import { IDENTIFIER_KINDS, type KeyKind, type KeyStrength, type KeyVariant } from './keys.js';

/** Strong: any strong key matched. Possible: only fuzzy keys. None: nothing matched. */
export type MatchStrength = 'strong' | 'possible' | 'none';

/** A key that matched, with the query-side strength (variants are always fuzzy). */
export interface MatchedKey {
  kind: KeyKind;
  strength: KeyStrength;
  variant?: KeyVariant;
}

/** What one query-vs-record comparison saw. */
export interface MatchEvidence {
  matched: readonly MatchedKey[];
  /** Kinds the query carried as base (non-variant) keys. */
  queryKinds: Iterable<KeyKind>;
  /** Kinds the record holds. */
  recordKinds: Iterable<KeyKind>;
}

/** The verdict for one query-vs-record pair. */
export interface MatchResult {
  strength: MatchStrength;
  /** Distinct matched kinds, strong kinds first. */
  kinds: KeyKind[];
  /**
   * Identifier kinds (nhs, chi, pnc) both sides hold but which did not match: two
   * different NHS numbers on an otherwise strong match. Flagged, never silently merged.
   */
  conflicts: KeyKind[];
  /** Query variants that produced a match (e.g. dob_swapped), so kinds read right. */
  variants: KeyVariant[];
}

/**
 * Classify one query against one record. Matching is always query-vs-record: nothing
 * here chains A~B and B~C into A~C, and callers must not either.
 *
 * A conflict does not downgrade the match: same name and dob with different NHS numbers
 * stays strong and is flagged, because either could be a typo and the investigator
 * decides. Conflicts are reported only when something matched.
 */
export function classifyMatch(evidence: MatchEvidence): MatchResult {
  const { matched } = evidence;
  if (matched.length === 0) return { strength: 'none', kinds: [], conflicts: [], variants: [] };
  const strong = matched.some((m) => m.strength === 'strong');
  const strongKinds = new Set(matched.filter((m) => m.strength === 'strong').map((m) => m.kind));
  const allKinds = new Set(matched.map((m) => m.kind));
  const kinds = [...strongKinds, ...[...allKinds].filter((k) => !strongKinds.has(k))];
  const queryKinds = new Set(evidence.queryKinds);
  const recordKinds = new Set(evidence.recordKinds);
  const conflicts = IDENTIFIER_KINDS.filter((k) => queryKinds.has(k) && recordKinds.has(k) && !allKinds.has(k));
  const variants = [...new Set(matched.flatMap((m) => (m.variant ? [m.variant] : [])))];
  return { strength: strong ? 'strong' : 'possible', kinds, conflicts, variants };
}

/** A key as held by either side: kind, strength and the opaque key string. */
export interface ComparableKey {
  kind: KeyKind;
  strength: KeyStrength;
  key: string;
  variant?: KeyVariant | undefined;
}

/**
 * Compare a query's keys with one record's keys by exact key equality and classify.
 * Works on OPRF outputs and, in tests, on the plain key input strings alike.
 */
export function matchKeys(query: readonly ComparableKey[], record: readonly ComparableKey[]): MatchResult {
  const recordByKey = new Map(record.map((k) => [k.key, k] as const));
  const matched: MatchedKey[] = [];
  for (const q of query) {
    const r = recordByKey.get(q.key);
    // Variants (fuzzy copies of strong kinds) keep the query's weaker strength.
    if (!r) continue;
    const m: MatchedKey = { kind: q.kind, strength: q.strength === 'strong' && r.strength === 'strong' ? 'strong' : 'fuzzy' };
    if (q.variant) m.variant = q.variant;
    matched.push(m);
  }
  return classifyMatch({
    matched,
    queryKinds: query.map((k) => k.kind),
    recordKinds: record.map((k) => k.kind),
  });
}
