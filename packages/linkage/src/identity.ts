import { McxError } from '@mcx/errors';

/** Recorded sex: female, male, indeterminate/other, unknown. */
export type Sex = 'F' | 'M' | 'X' | 'U';

/** What a force system sends about a child. Every field is optional; null means absent. */
export interface ChildIdentity {
  forename?: string | null;
  surname?: string | null;
  /** ISO date, YYYY-MM-DD. */
  dob?: string | null;
  sex?: Sex | null;
  nhsNumber?: string | null;
  chiNumber?: string | null;
  pncId?: string | null;
}

/** An associate (e.g. a suspected exploiter): a child identity plus device and vehicle. */
export interface AssociateIdentity extends ChildIdentity {
  phone?: string | null;
  vehicleReg?: string | null;
}

/** Stable codes for identity validation failures. */
export const IdentityErrorCode = {
  NAME_INVALID: 'NAME_INVALID',
  DOB_INVALID: 'DOB_INVALID',
  SEX_INVALID: 'SEX_INVALID',
  NHS_NUMBER_INVALID: 'NHS_NUMBER_INVALID',
  CHI_NUMBER_INVALID: 'CHI_NUMBER_INVALID',
  PNC_ID_INVALID: 'PNC_ID_INVALID',
  PHONE_INVALID: 'PHONE_INVALID',
  VEHICLE_REG_INVALID: 'VEHICLE_REG_INVALID',
  IDENTITY_EMPTY: 'IDENTITY_EMPTY',
} as const;
/** One identity validation code. */
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

/** One thing wrong with an identity. The message never contains the value. */
export interface IdentityIssue {
  field: keyof AssociateIdentity | null;
  code: IdentityErrorCode;
  message: string;
}

/** Result of validation: canonical identifiers, or every issue found. */
export type IdentityValidation = { ok: true; value: AssociateIdentity } | { ok: false; issues: IdentityIssue[] };

const MOD11_WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** NHS/CHI modulus 11 check digit over the first nine digits; null when the digit would be 10. */
export function mod11CheckDigit(first9: string): number | null {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(first9[i]) * (MOD11_WEIGHTS[i] ?? 0);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? null : check;
}

function tenDigits(raw: string): string | null {
  const digits = raw.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(digits) ? digits : null;
}

/** Canonical NHS number (10 digits) if the format and check digit are right, else null. */
export function canonicalNhsNumber(raw: string): string | null {
  const d = tenDigits(raw);
  if (!d) return null;
  return mod11CheckDigit(d.slice(0, 9)) === Number(d[9]) ? d : null;
}

/** True when YYYY-MM-DD parts form a real calendar date. */
export function isRealDate(year: number, month: number, day: number): boolean {
  const t = new Date(Date.UTC(year, month - 1, day));
  return t.getUTCFullYear() === year && t.getUTCMonth() === month - 1 && t.getUTCDate() === day;
}

/** Canonical CHI number (10 digits): DDMMYY a real date in 19YY or 20YY, modulus 11 check. */
export function canonicalChiNumber(raw: string): string | null {
  const d = tenDigits(raw);
  if (!d) return null;
  const day = Number(d.slice(0, 2));
  const month = Number(d.slice(2, 4));
  const yy = Number(d.slice(4, 6));
  if (!isRealDate(1900 + yy, month, day) && !isRealDate(2000 + yy, month, day)) return null;
  return mod11CheckDigit(d.slice(0, 9)) === Number(d[9]) ? d : null;
}

const PNC_LETTERS = 'ZABCDEFGHJKLMNPQRTUVWXY';

/**
 * PNC ID in canonical short form `YY/NNNNNNNX` (serial zero-padded to 7), format only.
 * Accepts `YY/NNNNNNX`, `YY/NNNNNNNX` and the long form `YYYY/NNNNNNNX`, slash optional.
 */
export function formatPncId(raw: string): string | null {
  const s = raw.replace(/\s/g, '').toUpperCase();
  const m = /^(\d{2}|\d{4})\/?(\d{1,7})([A-Z])$/.exec(s);
  if (!m) return null;
  const [, year = '', serial = '', letter = ''] = m;
  return `${year.slice(-2)}/${serial.padStart(7, '0')}${letter}`;
}

/** The PNC check letter: (YY followed by the 7-digit serial) mod 23, over ZABCDEFGHJKLMNPQRTUVWXY. */
export function pncCheckLetter(yy: string, serial7: string): string {
  return PNC_LETTERS[Number(BigInt(yy + serial7) % 23n)] ?? '';
}

/** Canonical PNC ID if the format and check letter are right, else null. */
export function canonicalPncId(raw: string): string | null {
  const f = formatPncId(raw);
  if (!f) return null;
  return pncCheckLetter(f.slice(0, 2), f.slice(3, 10)) === f[10] ? f : null;
}

/** Phone number in E.164. A leading 0 (or 44 with no +) is a UK number. Null if not a number. */
export function canonicalPhone(raw: string): string | null {
  const s = raw.replace(/\(0\)/g, '').replace(/[\s\-.()/]/g, '');
  let e164: string;
  if (/^\+\d+$/.test(s)) e164 = s;
  else if (/^00\d+$/.test(s)) e164 = `+${s.slice(2)}`;
  else if (/^0\d+$/.test(s)) e164 = `+44${s.slice(1)}`;
  else if (/^44\d{10}$/.test(s)) e164 = `+${s}`;
  else return null;
  if (e164.startsWith('+44')) {
    // UK national significant numbers are 10 digits (9 for a few 01 area codes), never 0-led.
    return /^\+44(?:[1-9]\d{9}|1\d{8})$/.test(e164) ? e164 : null;
  }
  return /^\+[1-9]\d{7,14}$/.test(e164) ? e164 : null;
}

/** Vehicle registration upper-cased without spaces or hyphens (UK and foreign plates). */
export function canonicalVehicleReg(raw: string): string | null {
  const s = raw.replace(/[\s-]/g, '').toUpperCase();
  return /^[A-Z0-9]{2,10}$/.test(s) && /[A-Z]/.test(s) && /\d/.test(s) ? s : null;
}

/** True when `dob` is YYYY-MM-DD, a real date, not before 1900 and not after `today`. */
export function isValidDob(dob: string, today: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dob);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return y >= 1900 && isRealDate(y, mo, d) && dob <= today;
}

function present(v: string | null | undefined): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

const SEXES = new Set(['F', 'M', 'X', 'U']);
const MAX_NAME_LENGTH = 100;

/**
 * Validate an identity and canonicalise its identifiers. Expected failures are data:
 * every issue is returned, with a code and a message that never echoes the input.
 */
export function validateIdentity(identity: AssociateIdentity, options: { now?: Date } = {}): IdentityValidation {
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const issues: IdentityIssue[] = [];
  const out: AssociateIdentity = {};
  const issue = (field: keyof AssociateIdentity, code: IdentityErrorCode, message: string) => issues.push({ field, code, message });

  for (const field of ['forename', 'surname'] as const) {
    const v = identity[field];
    if (!present(v)) continue;
    if (v.length > MAX_NAME_LENGTH || !/\p{L}/u.test(v)) {
      issue(field, IdentityErrorCode.NAME_INVALID, `${field} must contain a letter and be at most ${MAX_NAME_LENGTH} characters`);
    } else out[field] = v;
  }
  if (present(identity.dob)) {
    if (isValidDob(identity.dob.trim(), today)) out.dob = identity.dob.trim();
    else issue('dob', IdentityErrorCode.DOB_INVALID, 'dob must be a real date, YYYY-MM-DD, not in the future');
  }
  if (identity.sex != null) {
    const sex = String(identity.sex).toUpperCase();
    if (SEXES.has(sex)) out.sex = sex as Sex;
    else issue('sex', IdentityErrorCode.SEX_INVALID, 'sex must be one of F, M, X, U');
  }
  const checks = [
    [
      'nhsNumber',
      canonicalNhsNumber,
      IdentityErrorCode.NHS_NUMBER_INVALID,
      'NHS number must be 10 digits with a valid modulus 11 check digit',
    ],
    [
      'chiNumber',
      canonicalChiNumber,
      IdentityErrorCode.CHI_NUMBER_INVALID,
      'CHI number must be 10 digits: a DDMMYY date, then a valid modulus 11 check digit',
    ],
    ['pncId', canonicalPncId, IdentityErrorCode.PNC_ID_INVALID, 'PNC ID must be YY/NNNNNNNX with a valid check letter'],
    ['phone', canonicalPhone, IdentityErrorCode.PHONE_INVALID, 'phone must be a UK number or an international number with a country code'],
    ['vehicleReg', canonicalVehicleReg, IdentityErrorCode.VEHICLE_REG_INVALID, 'vehicle registration must be 2-10 letters and digits'],
  ] as const;
  for (const [field, canonical, code, message] of checks) {
    const v = identity[field];
    if (!present(v)) continue;
    const c = canonical(v);
    if (c) out[field] = c;
    else issue(field, code, message);
  }
  if (issues.length > 0) return { ok: false, issues };
  const keyable = out.nhsNumber ?? out.chiNumber ?? out.pncId ?? out.phone ?? out.vehicleReg ?? out.forename ?? out.surname;
  if (!keyable) {
    return { ok: false, issues: [{ field: null, code: IdentityErrorCode.IDENTITY_EMPTY, message: 'identity has nothing to link on' }] };
  }
  return { ok: true, value: out };
}

/** Validate, or throw McxError with the first issue's code (all issues on `cause`). */
export function parseIdentity(identity: AssociateIdentity, options: { now?: Date } = {}): AssociateIdentity {
  const result = validateIdentity(identity, options);
  if (result.ok) return result.value;
  const first = result.issues[0];
  throw new McxError(first?.code ?? IdentityErrorCode.IDENTITY_EMPTY, first?.message ?? 'identity invalid', { cause: result.issues });
}
