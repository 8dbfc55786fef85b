import { createHash } from 'node:crypto';

import { doubleMetaphone } from 'double-metaphone';

import type { Sex } from './identity.js';
import { NICKNAME_TABLE } from './nicknames.js';

/**
 * Bump RULES_VERSION by hand whenever a folding rule below changes. The nickname table is
 * hashed in, so editing it changes the version too. Keys from different versions never
 * match, by design: a node with another table would otherwise silently stop matching.
 */
const RULES_VERSION = 'n1';

/** Letters NFKD does not decompose into a base letter plus marks. */
const SPECIAL_LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ħ: 'h',
  ı: 'i',
  ŋ: 'n',
  ĸ: 'k',
  ſ: 's',
  ŀ: 'l',
  ŧ: 't',
  ɖ: 'd',
  ƒ: 'f',
};
const SPECIAL_RE = new RegExp(`[${Object.keys(SPECIAL_LETTERS).join('')}]`, 'gu');
/** Apostrophes join (O'Brien = OBrien); every other non-letter separates. */
const APOSTROPHES_RE = /['’‘ʼʻ`´′]/gu;

/** Fold text to lower-case base letters separated by single spaces. */
export function foldText(raw: string): string {
  return raw
    .replace(APOSTROPHES_RE, '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(SPECIAL_RE, (c) => SPECIAL_LETTERS[c] ?? c)
    .replace(/[^\p{L}]+/gu, ' ')
    .trim();
}

/** One folded token with prefix rules: Mac -> Mc (MacDonald = McDonald), Saint -> St. */
function foldToken(token: string): string {
  if (token === 'mac') return 'mc';
  if (/^mac\p{L}{2,}$/u.test(token)) return `mc${token.slice(3)}`;
  if (token === 'saint') return 'st';
  return token;
}

/** Name tokens after folding and prefix rules: "Mary-Jane" -> ["mary", "jane"]. */
export function nameTokens(raw: string | null | undefined): string[] {
  if (!raw) return [];
  const folded = foldText(raw);
  return folded === '' ? [] : folded.split(' ').map(foldToken);
}

/**
 * A name part as one string with no separators, so "Lloyd-Webb" = "Lloyd Webb" and
 * "O Brien" = "O'Brien" = "OBrien". Empty when there are no letters.
 */
export function normaliseNamePart(raw: string | null | undefined): string {
  return nameTokens(raw).join('');
}

interface NicknameEntry {
  canonical: string;
  sex: '' | 'F' | 'M';
}

function buildNicknameIndex(): Map<string, NicknameEntry[]> {
  const index = new Map<string, NicknameEntry[]>();
  for (const [canonicalRaw, sex, variants] of NICKNAME_TABLE) {
    const canonical = normaliseNamePart(canonicalRaw);
    for (const v of [canonicalRaw, ...variants.split(' ')]) {
      const key = normaliseNamePart(v);
      const list = index.get(key) ?? [];
      if (!list.some((e) => e.canonical === canonical && e.sex === sex)) list.push({ canonical, sex });
      index.set(key, list);
    }
  }
  // A name that is itself canonical stays itself, even when another entry lists it too
  // (George the boy, not Georgina).
  for (const [canonicalRaw, sex] of NICKNAME_TABLE) {
    const canonical = normaliseNamePart(canonicalRaw);
    index.set(canonical, [{ canonical, sex }]);
  }
  return index;
}

const NICKNAMES = buildNicknameIndex();

/**
 * Canonical given names for a forename's first token, through the nickname table.
 * Sex picks between readings (Ollie: Oliver if M, Olivia if F); unknown sex keeps all.
 */
export function canonicalForenames(forename: string | null | undefined, sex?: Sex | null): string[] {
  const first = nameTokens(forename)[0];
  if (!first) return [];
  const entries = NICKNAMES.get(first);
  if (!entries) return [first];
  const bySex = sex === 'F' || sex === 'M' ? entries.filter((e) => e.sex === '' || e.sex === sex) : entries;
  const chosen = bySex.length > 0 ? bySex : entries;
  return [...new Set(chosen.map((e) => e.canonical))].sort();
}

/** Primary double metaphone code of a normalised name part ('' when it has none). */
export function phoneticCode(namePart: string): string {
  return namePart === '' ? '' : doubleMetaphone(namePart)[0];
}

function tableDigest(): string {
  return createHash('sha256').update(JSON.stringify(NICKNAME_TABLE)).digest('hex').slice(0, 8);
}

/** Version of every normalisation rule and the nickname table, e.g. "n1-3f2a9c01". */
export const NORMALISATION_VERSION = `${RULES_VERSION}-${tableDigest()}`;
