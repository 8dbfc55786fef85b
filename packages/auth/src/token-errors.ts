import { isMcxError, McxError } from '@mcx/errors';

/**
 * Stable codes of every token refusal. A node answers all of them with UNAUTHENTICATED
 * (never echoing the reason to the caller) and logs the code.
 */
export const TokenErrorCode = {
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  TOKEN_ALG_NOT_ALLOWED: 'TOKEN_ALG_NOT_ALLOWED',
  TOKEN_FORBIDDEN_HEADER: 'TOKEN_FORBIDDEN_HEADER',
  TOKEN_UNKNOWN_ISSUER: 'TOKEN_UNKNOWN_ISSUER',
  TOKEN_UNKNOWN_KID: 'TOKEN_UNKNOWN_KID',
  TOKEN_BAD_SIGNATURE: 'TOKEN_BAD_SIGNATURE',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_NOT_YET_VALID: 'TOKEN_NOT_YET_VALID',
  TOKEN_WRONG_AUDIENCE: 'TOKEN_WRONG_AUDIENCE',
  TOKEN_WRONG_ISSUER: 'TOKEN_WRONG_ISSUER',
  TOKEN_WRONG_TYP: 'TOKEN_WRONG_TYP',
  TOKEN_NO_ROLES: 'TOKEN_NO_ROLES',
  TOKEN_WRONG_KIND: 'TOKEN_WRONG_KIND',
  /** The issuer's JWKS could not be fetched or parsed: an outage, not the caller's fault. */
  TOKEN_JWKS_UNAVAILABLE: 'TOKEN_JWKS_UNAVAILABLE',
  /** A failure jose reported that has no more specific code. */
  TOKEN_INVALID: 'TOKEN_INVALID',
} as const;
/** One token refusal code. */
export type TokenErrorCode = (typeof TokenErrorCode)[keyof typeof TokenErrorCode];

/** True when `error` is a token refusal from this package. */
export function isTokenError(error: unknown): error is McxError<TokenErrorCode> {
  return isMcxError(error, TokenErrorCode);
}

function joseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function claimCode(claim: unknown): TokenErrorCode {
  switch (claim) {
    case 'nbf':
      return TokenErrorCode.TOKEN_NOT_YET_VALID;
    case 'aud':
      return TokenErrorCode.TOKEN_WRONG_AUDIENCE;
    case 'iss':
      return TokenErrorCode.TOKEN_WRONG_ISSUER;
    case 'typ':
      return TokenErrorCode.TOKEN_WRONG_TYP;
    default:
      // A missing or mistyped exp/iat/sub, or an iat in the future.
      return TokenErrorCode.TOKEN_MALFORMED;
  }
}

/** Maps an error thrown by jose's jwtVerify to an McxError with a stable code; the original is the `cause`. */
export function mapJoseError(error: unknown): McxError {
  if (error instanceof McxError) return error;
  const code = joseCode(error);
  const message = error instanceof Error ? error.message : String(error);
  let mapped: TokenErrorCode;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      mapped = TokenErrorCode.TOKEN_EXPIRED;
      break;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      mapped = TokenErrorCode.TOKEN_BAD_SIGNATURE;
      break;
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      mapped = TokenErrorCode.TOKEN_UNKNOWN_KID;
      break;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      mapped = TokenErrorCode.TOKEN_ALG_NOT_ALLOWED;
      break;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      mapped = claimCode((error as { claim?: unknown }).claim);
      break;
    case 'ERR_JWT_INVALID':
    case 'ERR_JWS_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      mapped = TokenErrorCode.TOKEN_MALFORMED;
      break;
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      mapped = TokenErrorCode.TOKEN_JWKS_UNAVAILABLE;
      break;
    default:
      mapped = TokenErrorCode.TOKEN_INVALID;
  }
  return new McxError(mapped, `Token refused: ${message}`, { cause: error });
}
