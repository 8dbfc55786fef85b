/** Everything the console says about a code, in words. */

export const PURPOSE_WORDS: Record<string, string> = {
  MISSING_LIVE_SEARCH: 'Live search for a missing child',
  MISSING_RETURN_INTERVIEW: 'Return home interview',
  SAFEGUARDING_STRATEGY: 'Safeguarding strategy discussion or meeting',
  MISSING_REVIEW: 'Review of repeat missing episodes',
  AUDIT_REVIEW: 'Audit of disclosures',
};

const FORCE_NAMES: Record<string, string> = {
  WMP: 'West Midlands Police',
  GMP: 'Greater Manchester Police',
  MPS: 'Metropolitan Police Service',
  MERS: 'Merseyside',
  LANCS: 'Lancashire',
  WYP: 'West Yorkshire Police',
  BTP: 'British Transport Police',
};
export const forceName = (code: string) => FORCE_NAMES[code] ?? code;

export const GRADE_WORDS: Record<string, string> = {
  VERY_LOW: 'Very low',
  LOW: 'Low',
  MEDIUM: 'Medium',
  HIGH: 'High',
  ABSENT: 'Absent (before 2016)',
};

const SPECIAL: Record<string, string> = { CHILDRENS_HOME: "Children's home", CCE_COUNTY_LINES: 'CCE and county lines' };

export const words = (code: string) =>
  SPECIAL[code] ??
  code
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/^./, (c) => c.toUpperCase())
    .replace(/\bcse\b/i, 'CSE')
    .replace(/\bcce\b/i, 'CCE');

const NUMBER = new Intl.NumberFormat('en-GB');
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
export const when = (iso: string | null | undefined) => (iso ? DATE_TIME.format(new Date(iso)) : 'not recorded');

/** Why a member is missing from an answer, e.g. "timed out after 1,000 ms". */
export function memberProblem(m: { status: string; reason?: string | null; latencyMs: number }): string {
  switch (m.status) {
    case 'TIMED_OUT':
      return `timed out after ${NUMBER.format(m.latencyMs)} ms`;
    case 'UNAVAILABLE':
      return m.reason === 'ECONNREFUSED'
        ? 'did not answer: its node refused the connection'
        : `did not answer (${m.reason ?? 'unavailable'})`;
    case 'CIRCUIT_OPEN':
      return 'not asked: its node has been failing, so calls to it are paused';
    case 'REFUSED':
      return `refused the request (${m.reason ?? 'no reason given'})`;
    case 'BAD_DATA':
      return 'sent records that failed their checks; they were left out';
    case 'NOT_OFFERED':
      return 'does not offer this search';
    case 'TRUNCATED':
      return 'answered in part: it cut its answer at its limit';
    default:
      return words(m.status);
  }
}

/** What the node's refusal codes mean for the person at the keyboard, by field. */
const FIELD_ERRORS: Record<string, string> = {
  NAME_INVALID: 'Enter a name that contains a letter, at most 100 characters',
  DOB_INVALID: 'Enter a real date of birth that is not in the future',
  SEX_INVALID: 'Choose the sex',
  NHS_NUMBER_INVALID: 'Enter an NHS number of 10 digits, as printed (the last digit is a check digit)',
  CHI_NUMBER_INVALID: 'Enter a CHI number of 10 digits, starting with the date of birth (DDMMYY)',
  PNC_ID_INVALID: 'Enter a PNC ID like 11/123456A, with its check letter',
  IDENTITY_EMPTY: 'Enter a name, an NHS or CHI number, or a PNC ID to search on',
  CASE_REF_MALFORMED: "Enter the case reference in your force's format, for example WMP-26-1001",
  CASE_REF_TOO_LONG: 'The case reference is too long',
  CASE_REF_MISSING: 'Enter the case reference',
  PURPOSE_MISSING: 'Choose why you are searching',
  PURPOSE_UNKNOWN: 'Choose why you are searching',
};
/** The node names the field even where its code is a general one (INVALID_FORMAT): the field's own words then. */
const BY_FIELD: Record<string, string> = {
  forename: 'NAME_INVALID',
  surname: 'NAME_INVALID',
  dob: 'DOB_INVALID',
  sex: 'SEX_INVALID',
  nhsNumber: 'NHS_NUMBER_INVALID',
  chiNumber: 'CHI_NUMBER_INVALID',
  pncId: 'PNC_ID_INVALID',
};
export const fieldError = (reason: string | null, field: string | null, fallback: string) =>
  (reason && FIELD_ERRORS[reason]) || (field && BY_FIELD[field] && FIELD_ERRORS[BY_FIELD[field]]) || fallback;

/** A refusal that is not about one field, in words. */
export function refusalWords(code: string, reason: string | null): string {
  if (code === 'UNAUTHENTICATED' || reason?.startsWith('TOKEN_')) return 'Your sign-in has ended or was not accepted. Sign in again.';
  if (reason && FIELD_ERRORS[reason]) return FIELD_ERRORS[reason];
  if (code === 'FORBIDDEN') return 'You are not allowed to do this with your role and purpose.';
  if (code === 'AUDIT_UNAVAILABLE') return 'The search could not be recorded in the audit log, so nothing was released. Try again shortly.';
  if (code === 'SERVICE_UNAVAILABLE') return 'The exchange cannot answer this now. Try again shortly.';
  if (code === 'NETWORK') return 'The node did not answer. Check your connection and try again.';
  return 'Something went wrong. Try again, and tell the service desk if it keeps happening.';
}

/** A disclosed record's field path (facts.missingFrom.location) as words ("missing from location"). */
export const fieldPath = (p: string) =>
  p
    .replace(/^facts\./, '')
    .replace(/\./g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
