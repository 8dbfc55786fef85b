// Token refusal codes are in token-errors.ts; these are the other codes @mcx/auth throws.

/** Why a request's coded purpose or case reference was refused; the node answers these as BAD_USER_INPUT. */
export const PurposeErrorCode = {
  PURPOSE_MISSING: 'PURPOSE_MISSING',
  PURPOSE_UNKNOWN: 'PURPOSE_UNKNOWN',
  /** The purpose or case reference in the request headers differs from the one in the token. */
  PURPOSE_CONFLICT: 'PURPOSE_CONFLICT',
  CASE_REF_MISSING: 'CASE_REF_MISSING',
  CASE_REF_MALFORMED: 'CASE_REF_MALFORMED',
  CASE_REF_TOO_LONG: 'CASE_REF_TOO_LONG',
} as const;
/** One purpose code. */
export type PurposeErrorCode = (typeof PurposeErrorCode)[keyof typeof PurposeErrorCode];

/** A configuration the node must not start with: an operator's mistake, found at startup. */
export const AuthConfigErrorCode = {
  /** An issuer list or case reference rule is malformed. */
  AUTH_CONFIG_INVALID: 'AUTH_CONFIG_INVALID',
  /** The development issuer was given a bad key or asked to mint a bad token. */
  DEV_ISSUER_INVALID: 'DEV_ISSUER_INVALID',
} as const;
/** One configuration code. */
export type AuthConfigErrorCode = (typeof AuthConfigErrorCode)[keyof typeof AuthConfigErrorCode];
