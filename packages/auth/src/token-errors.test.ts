import { errors } from 'jose';
import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import { isTokenError, mapJoseError } from './token-errors.js';

const claimFailure = (claim: string, reason = 'check_failed') => new errors.JWTClaimValidationFailed(`bad ${claim}`, {}, claim, reason);

describe('mapJoseError', () => {
  it.each([
    [new errors.JWTExpired('expired', {}, 'exp', 'check_failed'), 'TOKEN_EXPIRED'],
    [new errors.JWSSignatureVerificationFailed(), 'TOKEN_BAD_SIGNATURE'],
    [new errors.JWKSNoMatchingKey(), 'TOKEN_UNKNOWN_KID'],
    [new errors.JWKSMultipleMatchingKeys(), 'TOKEN_UNKNOWN_KID'],
    [new errors.JOSEAlgNotAllowed('no'), 'TOKEN_ALG_NOT_ALLOWED'],
    [claimFailure('nbf'), 'TOKEN_NOT_YET_VALID'],
    [claimFailure('aud'), 'TOKEN_WRONG_AUDIENCE'],
    [claimFailure('iss'), 'TOKEN_WRONG_ISSUER'],
    [claimFailure('typ'), 'TOKEN_WRONG_TYP'],
    [claimFailure('exp', 'missing'), 'TOKEN_MALFORMED'],
    [new errors.JWTInvalid('bad'), 'TOKEN_MALFORMED'],
    [new errors.JWSInvalid('bad'), 'TOKEN_MALFORMED'],
    [new errors.JWKSTimeout(), 'TOKEN_JWKS_UNAVAILABLE'],
    [new TypeError('fetch failed'), 'TOKEN_INVALID'],
  ])('maps %s to %s, keeping the cause', (error, code) => {
    const mapped = mapJoseError(error);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(error);
    expect(isTokenError(mapped)).toBe(true);
  });

  it('passes an McxError through unchanged', () => {
    const error = new McxError('TOKEN_NO_ROLES', 'none');
    expect(mapJoseError(error)).toBe(error);
  });

  it('does not count other McxErrors as token errors', () => {
    expect(isTokenError(new McxError('FORBIDDEN', 'no'))).toBe(false);
  });
});
