import type { HeaderProblem } from './jws.js';
import type { KeyLookupFailure } from './key-resolver.js';

/**
 * Stable codes of every node token refusal (`verifyNodeToken`) and of a token that cannot be
 * issued (`signNodeToken`). A receiver answers all refusals with 401 and logs the code.
 */
export const NodeTokenErrorCode = {
  /** signNodeToken was given an empty iss or aud, a ttl outside 1..60 s, or a reserved claim. */
  NODE_TOKEN_INVALID: 'NODE_TOKEN_INVALID',
  NODE_TOKEN_MALFORMED: 'NODE_TOKEN_MALFORMED',
  NODE_TOKEN_WRONG_ALG: 'NODE_TOKEN_WRONG_ALG',
  NODE_TOKEN_WRONG_TYP: 'NODE_TOKEN_WRONG_TYP',
  NODE_TOKEN_UNKNOWN_KEY: 'NODE_TOKEN_UNKNOWN_KEY',
  NODE_TOKEN_REVOKED_KEY: 'NODE_TOKEN_REVOKED_KEY',
  NODE_TOKEN_KEY_NOT_FOR_JOB: 'NODE_TOKEN_KEY_NOT_FOR_JOB',
  NODE_TOKEN_BAD_SIGNATURE: 'NODE_TOKEN_BAD_SIGNATURE',
  /** iss is not a member, or the signing key is not a key of the member in iss. */
  NODE_TOKEN_NOT_MEMBER: 'NODE_TOKEN_NOT_MEMBER',
  NODE_TOKEN_WRONG_AUDIENCE: 'NODE_TOKEN_WRONG_AUDIENCE',
  /** exp - iat is more than NODE_TOKEN_MAX_TTL_SEC. */
  NODE_TOKEN_TOO_LONG: 'NODE_TOKEN_TOO_LONG',
  NODE_TOKEN_EXPIRED: 'NODE_TOKEN_EXPIRED',
  NODE_TOKEN_NOT_YET_VALID: 'NODE_TOKEN_NOT_YET_VALID',
} as const;
/** One node token code. */
export type NodeTokenErrorCode = (typeof NodeTokenErrorCode)[keyof typeof NodeTokenErrorCode];

/** The refusal for each header problem and key lookup failure; a new problem fails to compile until it has a code here. */
export const NODE_TOKEN_REFUSAL: Readonly<Record<HeaderProblem | KeyLookupFailure, NodeTokenErrorCode>> = {
  MALFORMED: NodeTokenErrorCode.NODE_TOKEN_MALFORMED,
  WRONG_ALG: NodeTokenErrorCode.NODE_TOKEN_WRONG_ALG,
  WRONG_TYP: NodeTokenErrorCode.NODE_TOKEN_WRONG_TYP,
  UNKNOWN_KEY: NodeTokenErrorCode.NODE_TOKEN_UNKNOWN_KEY,
  REVOKED_KEY: NodeTokenErrorCode.NODE_TOKEN_REVOKED_KEY,
  KEY_NOT_FOR_JOB: NodeTokenErrorCode.NODE_TOKEN_KEY_NOT_FOR_JOB,
};
