import { randomUUID } from 'node:crypto';

import { McxError } from '@mcx/errors';

import { checkHeader, decodeBase64url, decodeJws, signCompact, verifyInput } from './jws.js';
import { JOB_TYP, type SigningKey } from './keys.js';
import type { TrustManifestHolder } from './manifest-holder.js';
import { NODE_TOKEN_REFUSAL, NodeTokenErrorCode } from './node-token-errors.js';
import { KeyErrorCode } from './signing-errors.js';

/** The longest life a node token may have (DESIGN "The peer protocol": expiry at most 60 s). */
export const NODE_TOKEN_MAX_TTL_SEC = 60;

/** Claims a caller may not set through `claims`: the signer owns them. */
const RESERVED_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'nbf', 'jti'] as const;

/** Headers that would let a token name its own key; we trust only the manifest. */
const KEY_SOURCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256'] as const;

/** What a node token is issued for. */
export interface NodeTokenInput {
  /** The calling member's code: the receiver takes the force from here and nowhere else. */
  iss: string;
  /** The receiving node or service. */
  aud: string;
  /** Lifetime in seconds, 1..60. */
  ttlSec: number;
  /** Extra claims (act, purpose, operation hash...); may not contain the registered ones. */
  claims?: Record<string, unknown>;
  /** A fixed `jti` for reproducible tests; defaults to a random UUID. */
  jti?: string;
}

/** A verified node token: the member it speaks for, all its claims, and what a replay store needs. */
export interface VerifiedNodeToken {
  member: string;
  claims: Record<string, unknown>;
  jti: string;
  /** Expiry, seconds since the epoch: keep the jti at least this long. */
  exp: number;
}

/** Options for `verifyNodeToken`. */
export interface VerifyNodeTokenOptions {
  /** This receiver's audience name; the token's `aud` must be (or contain) it. */
  audience: string;
  now?: Date;
  /** Clock skew allowed on `iat`, `nbf` and `exp`, in seconds (default 5). */
  leewaySec?: number;
}

const refuse = (code: NodeTokenErrorCode, message: string): never => {
  throw new McxError(code, `node token refused: ${message}`);
};

/**
 * Signs a node token (compact JWT, `typ` `mcx-peer+jwt`) with the node's peer-token key.
 *
 * @example
 * const jwt = signNodeToken({ iss: 'WMP', aud: 'mcx-linkage', ttlSec: 30 }, keys.peerToken);
 * await fetch(url, { headers: { authorization: `Bearer ${jwt}` } });
 */
export function signNodeToken(input: NodeTokenInput, key: SigningKey<'peer-token'>, now: Date = new Date()): string {
  if (key.job !== 'peer-token') throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${key.job} key cannot sign node tokens`);
  if (typeof input.iss !== 'string' || input.iss.length === 0)
    throw new McxError(NodeTokenErrorCode.NODE_TOKEN_INVALID, 'iss must be a member code');
  if (typeof input.aud !== 'string' || input.aud.length === 0)
    throw new McxError(NodeTokenErrorCode.NODE_TOKEN_INVALID, 'aud must be a non-empty string');
  if (!Number.isSafeInteger(input.ttlSec) || input.ttlSec < 1 || input.ttlSec > NODE_TOKEN_MAX_TTL_SEC) {
    throw new McxError(NodeTokenErrorCode.NODE_TOKEN_INVALID, `ttlSec must be an integer from 1 to ${NODE_TOKEN_MAX_TTL_SEC}`);
  }
  const extra = input.claims ?? {};
  const reserved = RESERVED_CLAIMS.filter((c) => Object.hasOwn(extra, c));
  if (reserved.length > 0) throw new McxError(NodeTokenErrorCode.NODE_TOKEN_INVALID, `claims may not set ${reserved.join(', ')}`);
  const iat = Math.floor(now.getTime() / 1000);
  const payload = { ...extra, iss: input.iss, aud: input.aud, iat, exp: iat + input.ttlSec, jti: input.jti ?? randomUUID() };
  return signCompact(JOB_TYP['peer-token'], JSON.stringify(payload), key);
}

function parseClaims(encodedPayload: string): Record<string, unknown> {
  const bytes = decodeBase64url(encodedPayload);
  let claims: unknown;
  try {
    claims = JSON.parse((bytes ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'the payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
    return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'the payload is not an object');
  return claims as Record<string, unknown>;
}

const isSeconds = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Verifies a node token against the trust manifest: the key must be a listed, unrevoked
 * peer-token key of the very member named in `iss`. Throws `McxError` with a NodeTokenErrorCode.
 * Replays are not checked here: the caller keeps the returned `jti` until `exp`.
 *
 * @example
 * const { member, jti, exp } = verifyNodeToken(bearer, holder, { audience: 'mcx-linkage' });
 * if (!replayStore.add(member, jti, exp)) throw new Error('replayed');
 */
export function verifyNodeToken(jwt: string, holder: TrustManifestHolder, options: VerifyNodeTokenOptions): VerifiedNodeToken {
  const decoded = decodeJws(jwt);
  if (decoded === null || decoded.encodedPayload === '') return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'not a compact JWS');
  const named = KEY_SOURCE_HEADERS.filter((h) => h in decoded.header);
  if (named.length > 0) return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, `the header names its own key (${named.join(', ')})`);
  const checked = checkHeader(decoded.header, JOB_TYP['peer-token']);
  if ('problem' in checked) return refuse(NODE_TOKEN_REFUSAL[checked.problem], `bad header (${checked.problem})`);

  const lookup = holder.keyResolver('peer-token')(checked.kid);
  if (!lookup.found) return refuse(NODE_TOKEN_REFUSAL[lookup.reason], `signing key: ${lookup.reason}`);
  if (lookup.job !== 'peer-token') return refuse(NodeTokenErrorCode.NODE_TOKEN_KEY_NOT_FOR_JOB, 'the signing key is not a peer-token key');
  if (!verifyInput(decoded, decoded.encodedPayload, lookup.publicKey))
    return refuse(NodeTokenErrorCode.NODE_TOKEN_BAD_SIGNATURE, 'signature does not verify');

  const claims = parseClaims(decoded.encodedPayload);
  const { iss, aud, iat, exp, nbf, jti } = claims;
  if (typeof iss !== 'string' || typeof jti !== 'string' || jti.length === 0 || !isSeconds(iat) || !isSeconds(exp)) {
    return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'iss, jti, iat and exp are required');
  }
  if (nbf !== undefined && !isSeconds(nbf)) return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'nbf is not a number of seconds');
  // The force comes from iss alone, and the key that signed must be that member's own.
  const member = holder.member(iss);
  if (member === undefined) return refuse(NodeTokenErrorCode.NODE_TOKEN_NOT_MEMBER, 'iss is not a federation member');
  if (holder.ownerOfKid(checked.kid)?.code !== member.code)
    return refuse(NodeTokenErrorCode.NODE_TOKEN_NOT_MEMBER, 'the signing key is not a key of the member in iss');

  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(options.audience))
    return refuse(NodeTokenErrorCode.NODE_TOKEN_WRONG_AUDIENCE, 'the token is for another audience');

  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const leeway = options.leewaySec ?? 5;
  if (exp <= iat) return refuse(NodeTokenErrorCode.NODE_TOKEN_MALFORMED, 'exp is not after iat');
  if (exp - iat > NODE_TOKEN_MAX_TTL_SEC)
    return refuse(NodeTokenErrorCode.NODE_TOKEN_TOO_LONG, `the token lives longer than ${NODE_TOKEN_MAX_TTL_SEC} s`);
  if (exp <= now - leeway) return refuse(NodeTokenErrorCode.NODE_TOKEN_EXPIRED, 'the token has expired');
  if (iat > now + leeway || (nbf !== undefined && nbf > now + leeway))
    return refuse(NodeTokenErrorCode.NODE_TOKEN_NOT_YET_VALID, 'the token is not valid yet');
  return { member: member.code, claims, jti, exp };
}
