import { mod11CheckDigit, type ChildIdentity, type Sex } from './identity.js';
import { swappedDob } from './keys.js';
import { NICKNAME_TABLE } from './nicknames.js';
import { BOY_FORENAMES, GIRL_FORENAMES, SURNAMES, type NameTiers } from './synthetic-names.js';

/** A small seeded PRNG (mulberry32): deterministic synthetic data, not for secrets. */
export interface SeededRng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

/** Create a seeded PRNG. */
export function createSeededRng(seed: number): SeededRng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(items.length)];
      if (item === undefined) throw new RangeError('pick from an empty list');
      return item;
    },
  };
}

interface Weighted {
  names: string[];
  cumulative: number[];
  total: number;
}

function weighted(tiers: NameTiers): Weighted {
  const names: string[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [weight, list] of tiers) {
    for (const name of list.split(' ')) {
      total += weight;
      names.push(name);
      cumulative.push(total);
    }
  }
  return { names, cumulative, total };
}

function draw(w: Weighted, rng: SeededRng): string {
  const x = rng.next() * w.total;
  let lo = 0;
  let hi = w.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((w.cumulative[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return w.names[lo] ?? '';
}

const BOYS = weighted(BOY_FORENAMES);
const GIRLS = weighted(GIRL_FORENAMES);
const FAMILY = weighted(SURNAMES);
/** Ages 10-17, skewed to 13-16 as missing-episode reports are. */
const AGE_WEIGHTS: ReadonlyArray<readonly [age: number, weight: number]> = [
  [10, 3],
  [11, 5],
  [12, 9],
  [13, 15],
  [14, 21],
  [15, 22],
  [16, 16],
  [17, 9],
];
const AGE_TOTAL = AGE_WEIGHTS.reduce((s, [, w]) => s + w, 0);

function drawAge(rng: SeededRng): number {
  let x = rng.next() * AGE_TOTAL;
  for (const [age, w] of AGE_WEIGHTS) {
    x -= w;
    if (x < 0) return age;
  }
  return 15;
}

/** A valid NHS number in the 999 test range (never issued to a patient). */
export function syntheticNhsNumber(rng: SeededRng): string {
  for (;;) {
    const first9 = `999${String(rng.int(1_000_000)).padStart(6, '0')}`;
    const check = mod11CheckDigit(first9);
    if (check !== null) return `${first9}${check}`;
  }
}

/** Options for synthetic children. */
export interface SyntheticOptions {
  seed: number;
  /** Ages are measured at this date (YYYY-MM-DD); fixed so output is deterministic. */
  referenceDate?: string;
  /** Share of children with an NHS number (999 test range). Default 0. */
  nhsShare?: number;
}

/** One invented child: weighted UK-like forename and surname, sex, age 10-17 dob. */
export function syntheticChild(rng: SeededRng, options: Omit<SyntheticOptions, 'seed'> = {}): ChildIdentity {
  const ref = new Date(`${options.referenceDate ?? '2025-06-01'}T00:00:00Z`);
  const s = rng.next();
  const sex: Sex = s < 0.52 ? 'F' : s < 0.995 ? 'M' : 'U';
  const forename = draw(sex === 'F' ? GIRLS : sex === 'M' ? BOYS : rng.next() < 0.5 ? GIRLS : BOYS, rng);
  const birthday = new Date(ref);
  birthday.setUTCFullYear(ref.getUTCFullYear() - drawAge(rng));
  birthday.setUTCDate(birthday.getUTCDate() - rng.int(365));
  const child: ChildIdentity = { forename, surname: draw(FAMILY, rng), dob: birthday.toISOString().slice(0, 10), sex };
  if (options.nhsShare && rng.next() < options.nhsShare) child.nhsNumber = syntheticNhsNumber(rng);
  return child;
}

/** `count` invented children from a seed; the same seed always gives the same list. */
export function syntheticChildren(count: number, options: SyntheticOptions): ChildIdentity[] {
  const rng = createSeededRng(options.seed);
  // An NHS number belongs to one person: draw again on a repeat (the 999 test range is small).
  const used = new Set<string>();
  return Array.from({ length: count }, () => {
    const child = syntheticChild(rng, options);
    while (child.nhsNumber && used.has(child.nhsNumber)) child.nhsNumber = syntheticNhsNumber(rng);
    if (child.nhsNumber) used.add(child.nhsNumber);
    return child;
  });
}

/** Ways a second force might record the same child differently. */
export type Perturbation = 'case' | 'nickname' | 'typo' | 'surname_change' | 'dob_swap' | 'name_swap' | 'no_dob';

const NICKNAMES_OF = new Map(NICKNAME_TABLE.map(([canonical, , variants]) => [canonical, variants.split(' ')]));

/** The same child as another force might record them (for recall tests at scale). */
export function perturbChild(child: ChildIdentity, how: Perturbation, rng: SeededRng): ChildIdentity {
  const out = { ...child };
  const forename = child.forename ?? '';
  switch (how) {
    case 'case':
      out.forename = forename.toUpperCase();
      out.surname = ` ${(child.surname ?? '').toLowerCase()} `;
      break;
    case 'nickname': {
      const nicks = NICKNAMES_OF.get(forename.toLowerCase());
      if (nicks) out.forename = rng.pick(nicks);
      break;
    }
    case 'typo': {
      const i = 1 + rng.int(Math.max(1, forename.length - 2));
      out.forename = forename.slice(0, i) + (forename[i + 1] ?? '') + (forename[i] ?? '') + forename.slice(i + 2);
      break;
    }
    case 'surname_change':
      out.surname = draw(FAMILY, rng);
      break;
    case 'dob_swap':
      out.dob = (child.dob && swappedDob(child.dob)) ?? child.dob ?? null;
      break;
    case 'name_swap':
      out.forename = child.surname ?? null;
      out.surname = child.forename ?? null;
      break;
    case 'no_dob':
      out.dob = null;
      break;
  }
  return out;
}
