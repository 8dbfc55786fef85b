import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';

import { McxError } from '@mcx/errors';

import { viewerFromClaims } from './claim-mapping.js';
import { ALLOWED_ALGORITHMS, assertValidIssuerConfigs, type IssuerConfig } from './issuers.js';
import { mapJoseError, TokenErrorCode } from './token-errors.js';
import type { Viewer } from './viewer.js';

/** Longer than any real access token; refuses megabyte headers before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;
/**
 * Header parameters that would let the token name its own key or key location. They are
 * never followed (RFC 8725 §3.10): a token carrying any of them is refused outright.
 */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Options of createTokenVerifier. */
export interface TokenVerifierOptions {
  issuers: readonly IssuerConfig[];
  /** Allowed clock skew for `exp` and `nbf`. Default 30 seconds. */
  clockToleranceSec?: number;
  /** The clock; injectable for tests. */
  now?: () => Date;
  /** Remote JWKS tuning (jose defaults: 30 s cooldown, 10 min cache, 5 s timeout). */
  remoteJwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
}

/** A verified token: the Viewer, plus the claims and header (for purpose claims and audit). */
export interface VerifiedToken {
  viewer: Viewer;
  claims: JWTPayload;
  header: ProtectedHeaderParameters;
}

/** Verifies bearer tokens against the configured issuers. */
export interface TokenVerifier {
  /** Verifies `jwt` and returns its Viewer, or throws McxError with a TokenErrorCode. */
  verify(jwt: string): Promise<Viewer>;
  /** As verify, also returning the verified claims and header. */
  verifyWithClaims(jwt: string): Promise<VerifiedToken>;
}

interface IssuerEntry {
  config: IssuerConfig;
  getKey: JWTVerifyGetKey;
}

function refuse(code: TokenErrorCode, message: string, cause?: unknown): McxError {
  return new McxError(code, message, cause === undefined ? undefined : { cause });
}

/** Key lookup failures other than "no such key" mean the issuer's JWKS is unusable. */
function guardRemote(getKey: JWTVerifyGetKey, config: IssuerConfig): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      throw refuse(TokenErrorCode.TOKEN_JWKS_UNAVAILABLE, `JWKS of issuer ${config.id} unavailable`, error);
    }
  };
}

function keyResolver(config: IssuerConfig, options: TokenVerifierOptions): JWTVerifyGetKey {
  if (config.jwks) return createLocalJWKSet(config.jwks);
  // Validated: exactly one of jwks and jwksUrl is set. The URL comes from configuration
  // only; nothing in a token can change where keys are fetched from.
  const url = new URL(config.jwksUrl as string);
  const tuning = options.remoteJwks ?? {};
  const remote = createRemoteJWKSet(url, {
    ...(tuning.cooldownMs === undefined ? {} : { cooldownDuration: tuning.cooldownMs }),
    ...(tuning.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: tuning.cacheMaxAgeMs }),
    ...(tuning.timeoutMs === undefined ? {} : { timeoutDuration: tuning.timeoutMs }),
  });
  return guardRemote(remote, config);
}

function readHeader(jwt: unknown): ProtectedHeaderParameters {
  if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > MAX_TOKEN_LENGTH) {
    throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Token missing or too long');
  }
  // Compact JWS only: a 5-part JWE (or anything else) is not an MCX access token.
  if (jwt.split('.').length !== 3) throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Not a compact JWS');
  try {
    return decodeProtectedHeader(jwt);
  } catch (cause) {
    throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Unreadable token header', cause);
  }
}

/**
 * Creates a verifier for the configured issuers (RFC 8725: algorithm allow-list per issuer,
 * issuer, audience, expiry, explicit typing; `jku`/`x5u`/`jwk`/`x5c` refused).
 *
 * @example
 * const verifier = createTokenVerifier({ issuers: [entraIssuer, devIssuerConfig(...)] });
 * try {
 *   const viewer = await verifier.verify(bearerToken);
 *   authorize(viewer, 'record.read');
 * } catch (error) {
 *   if (isTokenError(error)) log.warn({ code: error.code }, 'token refused'); // answer UNAUTHENTICATED
 *   throw error;
 * }
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  assertValidIssuerConfigs(options.issuers);
  const clockTolerance = options.clockToleranceSec ?? 30;
  const now = options.now ?? (() => new Date());
  const byIssuer = new Map<string, IssuerEntry>(
    options.issuers.map((config) => [config.issuer, { config, getKey: keyResolver(config, options) }]),
  );

  async function verifyWithClaims(jwt: string): Promise<VerifiedToken> {
    const unverifiedHeader = readHeader(jwt);
    for (const name of FORBIDDEN_HEADERS) {
      if (Object.hasOwn(unverifiedHeader, name)) {
        throw refuse(TokenErrorCode.TOKEN_FORBIDDEN_HEADER, `Token header ${name} is not allowed`);
      }
    }
    const alg = unverifiedHeader.alg;
    if (typeof alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw refuse(TokenErrorCode.TOKEN_ALG_NOT_ALLOWED, `Token alg ${String(alg)} is not allowed`);
    }
    let unverifiedClaims: JWTPayload;
    try {
      unverifiedClaims = decodeJwt(jwt);
    } catch (cause) {
      throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Unreadable token payload', cause);
    }
    // The unverified iss only selects which issuer's keys and rules to verify against;
    // jwtVerify then checks it again, together with the signature.
    const iss = unverifiedClaims.iss;
    if (typeof iss !== 'string') throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Token has no iss');
    const entry = byIssuer.get(iss);
    if (!entry) throw refuse(TokenErrorCode.TOKEN_UNKNOWN_ISSUER, 'Token issuer is not configured');
    const { config } = entry;
    if (!(config.algorithms as readonly string[]).includes(alg)) {
      throw refuse(TokenErrorCode.TOKEN_ALG_NOT_ALLOWED, `alg ${alg} not allowed for issuer ${config.id}`);
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, entry.getKey, {
        algorithms: config.algorithms,
        issuer: config.issuer,
        audience: config.audience,
        ...(config.typ === undefined ? {} : { typ: config.typ }),
        clockTolerance,
        currentDate: now(),
        requiredClaims: ['exp'],
      });
      return { viewer: viewerFromClaims(config, payload), claims: payload, header: protectedHeader };
    } catch (error) {
      throw mapJoseError(error);
    }
  }

  return {
    verifyWithClaims,
    async verify(jwt) {
      return (await verifyWithClaims(jwt)).viewer;
    },
  };
}

/** Returns the token from an `Authorization: Bearer <token>` header, or null when there is no header. */
export function readBearerToken(authorization: string | null | undefined): string | null {
  if (authorization === undefined || authorization === null || authorization === '') return null;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim());
  if (!match?.[1]) throw refuse(TokenErrorCode.TOKEN_MALFORMED, 'Authorization header is not a Bearer token');
  return match[1];
}

/** Returns the viewer if it came with a user token; a client-credentials token is refused (TOKEN_WRONG_KIND). */
export function requireUserToken(viewer: Viewer): Viewer {
  if (viewer.tokenKind !== 'user') {
    throw refuse(TokenErrorCode.TOKEN_WRONG_KIND, 'A user token is required; got a client-credentials token');
  }
  return viewer;
}

/** Returns the viewer if it came with a client-credentials token (TOKEN_WRONG_KIND otherwise). */
export function requireClientToken(viewer: Viewer): Viewer {
  if (viewer.tokenKind !== 'client') {
    throw refuse(TokenErrorCode.TOKEN_WRONG_KIND, 'A client-credentials token is required; got a user token');
  }
  return viewer;
}
