/**
 * Why a request is made, and for which case. Every read carries both (DESIGN.md, "Purpose
 * and case reference"); they are audited at both ends. They travel in headers or token
 * claims, never in field arguments, so `_entities` enforces them too.
 */
import { McxError } from '@mcx/errors';

import { AuthConfigErrorCode, PurposeErrorCode } from './auth-errors.js';
import { IDENTIFIER } from './viewer.js';

/** The coded purposes. Short on purpose: each must be explainable to an auditor. */
export const PURPOSES = [
  /** A child is missing now; the investigator is searching. */
  'MISSING_LIVE_SEARCH',
  /** Preparing or holding a return-home interview after an episode. */
  'MISSING_RETURN_INTERVIEW',
  /** A multi-agency safeguarding strategy discussion or meeting. */
  'SAFEGUARDING_STRATEGY',
  /** Reviewing a child's repeat episodes (e.g. the three-episode joint intervention). */
  'MISSING_REVIEW',
  /** An auditor or data protection officer checking disclosures. */
  'AUDIT_REVIEW',
] as const;
/** One coded purpose. */
export type Purpose = (typeof PURPOSES)[number];

/** The purpose and case reference of one request, validated. */
export interface RequestPurpose {
  purpose: Purpose;
  caseRef: string;
}

/** The per-force case reference format. */
export interface CaseRefRules {
  /** Anchored (`^...$`) pattern of a valid case reference. */
  caseRefPattern: RegExp;
  caseRefMaxLength: number;
}

/** Default: 2-4 capital letters, 2-4 digits, 1-10 digits, e.g. `MPS-24-001234`. No spaces, so no names. */
export const DEFAULT_CASE_REF_RULES: CaseRefRules = {
  caseRefPattern: /^[A-Z]{2,4}-\d{2,4}-\d{1,10}$/,
  caseRefMaxLength: 32,
};

/** Header and claim names that carry the purpose and case reference. */
export const PURPOSE_HEADER = 'x-mcx-purpose';
export const CASE_REF_HEADER = 'x-mcx-case-ref';
export const PURPOSE_CLAIM = 'mcx_purpose';
export const CASE_REF_CLAIM = 'mcx_case_ref';

/** True when `value` is a coded purpose. */
export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && (PURPOSES as readonly string[]).includes(value);
}

function fail(code: PurposeErrorCode | AuthConfigErrorCode, message: string): McxError {
  return new McxError(code, message);
}

function checkedPattern(pattern: RegExp): RegExp {
  // An unanchored pattern would accept "Olivia Hart MPS-24-1"; g/y would make test() stateful.
  if (!pattern.source.startsWith('^') || !pattern.source.endsWith('$')) {
    throw fail(AuthConfigErrorCode.AUTH_CONFIG_INVALID, 'caseRefPattern must be anchored with ^ and $');
  }
  return /[gy]/.test(pattern.flags) ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
}

/**
 * Validates a purpose and case reference; throws McxError PURPOSE_MISSING, PURPOSE_UNKNOWN,
 * CASE_REF_MISSING, CASE_REF_TOO_LONG or CASE_REF_MALFORMED.
 */
export function parseRequestPurpose(
  input: { purpose?: unknown; caseRef?: unknown },
  rules: CaseRefRules = DEFAULT_CASE_REF_RULES,
): RequestPurpose {
  const { purpose, caseRef } = input;
  if (purpose === undefined || purpose === null || purpose === '') {
    throw fail(PurposeErrorCode.PURPOSE_MISSING, 'A coded purpose is required');
  }
  if (!isPurpose(purpose)) throw fail(PurposeErrorCode.PURPOSE_UNKNOWN, `Unknown purpose; expected one of ${PURPOSES.join(', ')}`);
  if (caseRef === undefined || caseRef === null || caseRef === '') {
    throw fail(PurposeErrorCode.CASE_REF_MISSING, 'A case reference is required');
  }
  if (typeof caseRef !== 'string') throw fail(PurposeErrorCode.CASE_REF_MALFORMED, 'The case reference must be a string');
  // Length first: the pattern never runs on unbounded input. The value itself is never
  // echoed, since a malformed one may be a child's name.
  if (caseRef.length > rules.caseRefMaxLength) {
    throw fail(PurposeErrorCode.CASE_REF_TOO_LONG, `The case reference exceeds ${rules.caseRefMaxLength} characters`);
  }
  // The audit entry holds it: printable ASCII without spaces, whatever a force's pattern allows.
  if (!IDENTIFIER.test(caseRef) || !checkedPattern(rules.caseRefPattern).test(caseRef)) {
    throw fail(PurposeErrorCode.CASE_REF_MALFORMED, "The case reference does not match this force's format");
  }
  return { purpose, caseRef };
}

/** Request headers as Node (`IncomingHttpHeaders`) or fetch (`Headers`) give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  let value: string | string[] | null | undefined;
  if (typeof (headers as Headers).get === 'function') value = (headers as Headers).get(name);
  else value = (headers as Record<string, string | string[] | undefined>)[name];
  // A repeated header is ambiguous; join so that validation rejects it.
  const joined = Array.isArray(value) ? value.join(', ') : value;
  const trimmed = joined?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function pick(fromHeader: string | undefined, fromClaim: unknown, what: string): unknown {
  const claim = fromClaim === '' ? undefined : fromClaim;
  if (fromHeader !== undefined && claim !== undefined && fromHeader !== claim) {
    // Neither source is allowed to win silently: the audit must show one true purpose.
    throw fail(PurposeErrorCode.PURPOSE_CONFLICT, `The ${what} in the request headers differs from the one in the token`);
  }
  return fromHeader ?? claim;
}

/**
 * Reads purpose and case reference from headers (`x-mcx-purpose`, `x-mcx-case-ref`) or token
 * claims (`mcx_purpose`, `mcx_case_ref`), refusing PURPOSE_CONFLICT when both give different values, then validates.
 */
export function purposeFromRequest(
  headers: HeaderSource,
  claims: Record<string, unknown> | undefined,
  rules: CaseRefRules = DEFAULT_CASE_REF_RULES,
): RequestPurpose {
  const purpose = pick(header(headers, PURPOSE_HEADER), claims?.[PURPOSE_CLAIM], 'purpose');
  const caseRef = pick(header(headers, CASE_REF_HEADER), claims?.[CASE_REF_CLAIM], 'case reference');
  return parseRequestPurpose({ purpose, caseRef }, rules);
}
