import { McxError } from '@mcx/errors';

import {
  canonicalPhone,
  canonicalVehicleReg,
  formatPncId,
  IdentityErrorCode,
  isRealDate,
  type AssociateIdentity,
  type Sex,
} from './identity.js';
import { canonicalForenames, NORMALISATION_VERSION, normaliseNamePart, phoneticCode } from './normalise.js';

/** Every kind of linkage key. */
export type KeyKind =
  'nhs' | 'chi' | 'pnc' | 'name_dob' | 'phonetic_name_dob' | 'surname_dob_sex' | 'forename_dob_sex' | 'name_only' | 'phone' | 'vreg';

/** A strong key match makes a strong match; fuzzy keys only make a possible one. */
export type KeyStrength = 'strong' | 'fuzzy';

/** Query-side extra keys: dob with day and month swapped; sex unknown, tried as F and M. */
export type KeyVariant = 'dob_swapped' | 'sex_expanded';

/**
 * Strength of each kind. Phone and vehicle identify a device or a vehicle, not a person
 * (shared phones, family cars, burner handsets), so they are fuzzy.
 */
export const KEY_KIND_STRENGTH: Readonly<Record<KeyKind, KeyStrength>> = {
  nhs: 'strong',
  chi: 'strong',
  pnc: 'strong',
  name_dob: 'strong',
  phonetic_name_dob: 'fuzzy',
  surname_dob_sex: 'fuzzy',
  forename_dob_sex: 'fuzzy',
  name_only: 'fuzzy',
  phone: 'fuzzy',
  vreg: 'fuzzy',
};

/** Identifier kinds where two different values on the two sides are a conflict. */
export const IDENTIFIER_KINDS: readonly KeyKind[] = ['nhs', 'chi', 'pnc'];

/** One linkage key input: the domain-separated string that goes into the OPRF. */
export interface KeyInput {
  kind: KeyKind;
  strength: KeyStrength;
  /** `${NORMALISATION_VERSION}|${kind}|${value}` */
  input: string;
  variant?: KeyVariant;
}

/** Record keys are stored; query keys are looked up (they add variants, drop name-only). */
export type KeyRole = 'record' | 'query';

/** Options for building key inputs. */
export interface KeyOptions {
  role: KeyRole;
  /** Query only: also send the name-only key though a dob is known (age disputed). */
  includeNameOnly?: boolean;
  /** Query only: add dob day/month-swapped variants (default true). */
  dobVariants?: boolean;
}

function keyInput(kind: KeyKind, value: string, variant?: KeyVariant): KeyInput {
  const k: KeyInput = {
    kind,
    strength: variant ? 'fuzzy' : KEY_KIND_STRENGTH[kind],
    input: `${NORMALISATION_VERSION}|${kind}|${value}`,
  };
  if (variant) k.variant = variant;
  return k;
}

/** The dob with day and month swapped, when both are 12 or less and differ; else null. */
export function swappedDob(dob: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dob);
  if (!m) return null;
  const [, y = '', mo = '', d = ''] = m;
  if (mo === d || Number(mo) > 12 || Number(d) > 12) return null;
  return isRealDate(Number(y), Number(d), Number(mo)) ? `${y}-${d}-${mo}` : null;
}

function required<T>(value: T | null, code: IdentityErrorCode, message: string): T {
  if (value === null) throw new McxError(code, message);
  return value;
}

/** Identifier keys (format-canonical; checksums are validateIdentity's job). */
function identifierKeys(id: AssociateIdentity): KeyInput[] {
  const keys: KeyInput[] = [];
  const digits = (s: string) => s.replace(/[\s-]/g, '');
  if (id.nhsNumber) {
    const v = digits(id.nhsNumber);
    keys.push(
      keyInput('nhs', required(/^\d{10}$/.test(v) ? v : null, IdentityErrorCode.NHS_NUMBER_INVALID, 'NHS number must be 10 digits')),
    );
  }
  if (id.chiNumber) {
    const v = digits(id.chiNumber);
    keys.push(
      keyInput('chi', required(/^\d{10}$/.test(v) ? v : null, IdentityErrorCode.CHI_NUMBER_INVALID, 'CHI number must be 10 digits')),
    );
  }
  if (id.pncId) keys.push(keyInput('pnc', required(formatPncId(id.pncId), IdentityErrorCode.PNC_ID_INVALID, 'PNC ID must be YY/NNNNNNNX')));
  if (id.phone)
    keys.push(keyInput('phone', required(canonicalPhone(id.phone), IdentityErrorCode.PHONE_INVALID, 'phone number not recognised')));
  if (id.vehicleReg) {
    keys.push(
      keyInput(
        'vreg',
        required(canonicalVehicleReg(id.vehicleReg), IdentityErrorCode.VEHICLE_REG_INVALID, 'vehicle registration not recognised'),
      ),
    );
  }
  return keys;
}

/** Name- and dob-based keys for one dob value (the real one, or a swapped variant). */
function nameDobKeys(
  forename: string,
  surname: string,
  forenames: string[],
  dob: string,
  sexes: Sex[],
  variant: KeyVariant | undefined,
  sexVariant: KeyVariant | undefined,
): KeyInput[] {
  const keys: KeyInput[] = [];
  if (forename && surname) {
    // Order-sensitive on purpose: "Owen Morgan" and "Morgan Owen" are different people
    // often enough that a swap should only ever be a possible match.
    keys.push(keyInput('name_dob', `${forename}|${surname}|${dob}`, variant));
    // Whole name parts, no nicknames, sorted: symmetric, so a forename/surname swap still
    // links (possible). Nicknames are covered by forename_dob_sex.
    const codes = [phoneticCode(forename), phoneticCode(surname)];
    if (codes.every((c) => c !== '')) {
      keys.push(keyInput('phonetic_name_dob', `${codes.sort().join('|')}|${dob}`, variant));
    }
  }
  for (const sex of sexes) {
    const v = variant ?? sexVariant;
    if (surname) keys.push(keyInput('surname_dob_sex', `${surname}|${dob}|${sex}`, v));
    for (const f of forenames) keys.push(keyInput('forename_dob_sex', `${f}|${dob}|${sex}`, v));
  }
  return keys;
}

/**
 * Build the linkage key inputs for an identity. Pure and deterministic: the same identity
 * and NORMALISATION_VERSION always give the same strings, so they can be fed to the OPRF.
 * Records get every base key; queries also get variant keys (always fuzzy), and get the
 * name-only key only when they have no dob (or includeNameOnly).
 */
export function buildKeyInputs(identity: AssociateIdentity, options: KeyOptions): KeyInput[] {
  const isQuery = options.role === 'query';
  const keys = identifierKeys(identity);
  const forename = normaliseNamePart(identity.forename);
  const surname = normaliseNamePart(identity.surname);
  const sex = identity.sex ?? 'U';
  const forenames = canonicalForenames(identity.forename, sex);
  const dob = identity.dob?.trim() || null;

  if (dob) {
    // Unknown sex: a record has no sex-keyed keys; a query tries F and M as fuzzy variants.
    const sexes: Sex[] = sex !== 'U' ? [sex] : isQuery ? ['F', 'M'] : [];
    const sexVariant: KeyVariant | undefined = sex === 'U' ? 'sex_expanded' : undefined;
    keys.push(...nameDobKeys(forename, surname, forenames, dob, sexes, undefined, sexVariant));
    const swapped = isQuery && options.dobVariants !== false ? swappedDob(dob) : null;
    if (swapped) keys.push(...nameDobKeys(forename, surname, forenames, swapped, sexes, 'dob_swapped', undefined));
  }
  const wantNameOnly = !isQuery || !dob || options.includeNameOnly === true;
  if (wantNameOnly && forename && surname) {
    // Order-insensitive: with no dob, a forename/surname swap is the likeliest entry error.
    // The name as written (swap-safe) and each nickname reading (a found child says "Billy").
    for (const f of new Set([forename, ...forenames])) keys.push(keyInput('name_only', [f, surname].sort().join('|')));
  }
  return dedupe(keys);
}

/** Keep one key per input string, preferring the strong (non-variant) one. */
function dedupe(keys: KeyInput[]): KeyInput[] {
  const byInput = new Map<string, KeyInput>();
  for (const k of keys) {
    const seen = byInput.get(k.input);
    if (!seen || (seen.strength === 'fuzzy' && k.strength === 'strong')) byInput.set(k.input, k);
  }
  return [...byInput.values()];
}
