import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';

import { McxError } from '@mcx/errors';

import { AuthConfigErrorCode } from './auth-errors.js';
import { FORCE_CODE, IDENTIFIER, ORG_KINDS, ROLES, type OrgKind, type Role } from './viewer.js';

/** The `iss` of the development token issuer. A production node refuses it. */
export const DEV_ISSUER = 'mcx-dev-issuer';

/**
 * Asymmetric algorithms an issuer may be configured with. HS* is absent on purpose: a
 * shared secret cannot prove which party signed, and HS-with-public-key is the classic
 * algorithm-confusion attack (RFC 8725 §2.1). `none` is never accepted.
 */
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'PS256'] as const;
/** One allowed JWS algorithm. */
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** How the claims of an issuer's tokens become a Viewer; see claim-mapping.ts. */
export type ClaimMapping = 'entra' | 'plain';

/** One trusted token issuer (a force, a local authority, a commissioned provider). */
export interface IssuerConfig {
  /** A short local name for logs and configuration errors. */
  id: string;
  /** The exact `iss` value. Unique across the configured issuers. */
  issuer: string;
  /** The `aud` this node expects from this issuer. */
  audience: string;
  /**
   * URL of the issuer's JWKS: https in production (a private CA: NODE_EXTRA_CA_CERTS); plain
   * http only on loopback, and only in development and test (productionIssuerProblems).
   */
  jwksUrl?: string;
  /** A static key set, for development and tests only: production refuses it. Exactly one of `jwksUrl` and `jwks`. */
  jwks?: JSONWebKeySet;
  algorithms: AllowedAlgorithm[];
  /** Force or authority code this issuer speaks for. */
  force: string;
  orgKind: OrgKind;
  /** When set, the `typ` header must equal it (RFC 8725 §3.11), e.g. `at+jwt`. */
  typ?: string;
  claimMapping: ClaimMapping;
  /** External role, app-role or scope name -> MCX role. Absent: only exact MCX role names count. */
  roleMap?: Record<string, Role>;
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const JwkSchema = z
  .object({ kty: z.string() })
  .catchall(z.unknown())
  .refine((jwk) => jwk.kty !== 'oct', 'symmetric (oct) keys are not allowed')
  .refine((jwk) => PRIVATE_JWK_MEMBERS.every((m) => !(m in jwk)), 'a JWKS must hold public keys only');

const JwksUrlSchema = z.string().refine((value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}, 'jwksUrl must be an https URL (http only on loopback, outside production)');

/** Schema of one issuer configuration, as a node reads it from its config file. */
export const IssuerConfigSchema = z
  .object({
    id: z.string().min(1),
    // No whitespace: a person is stored as `issuer subject` (alert and watch owners), parted at the first space.
    // Printable ASCII of at most 256 characters: every audit entry of its users holds it.
    issuer: z.string().max(256).regex(IDENTIFIER, 'issuer must be non-empty printable ASCII without whitespace, at most 256 characters'),
    audience: z.string().min(1),
    jwksUrl: JwksUrlSchema.optional(),
    jwks: z.object({ keys: z.array(JwkSchema).min(1) }).optional(),
    algorithms: z.array(z.enum(ALLOWED_ALGORITHMS)).min(1),
    force: z.string().regex(FORCE_CODE, 'force must be a code: letters, digits and _.:- (at most 32)'),
    orgKind: z.enum(ORG_KINDS),
    typ: z.string().min(1).optional(),
    claimMapping: z.enum(['entra', 'plain']),
    roleMap: z.record(z.string(), z.enum(ROLES)).optional(),
  })
  .refine((c) => (c.jwksUrl === undefined) !== (c.jwks === undefined), {
    message: 'exactly one of jwksUrl and jwks is required',
  });

/** Throws McxError `AUTH_CONFIG_INVALID` unless every issuer is well formed and `iss` values are unique. */
export function assertValidIssuerConfigs(configs: readonly IssuerConfig[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  configs.forEach((config, index) => {
    const result = IssuerConfigSchema.safeParse(config);
    if (!result.success) {
      const where = `issuers[${index}]${typeof config?.id === 'string' ? ` (${config.id})` : ''}`;
      for (const issue of result.error.issues) {
        problems.push(`${where}.${issue.path.join('.')}: ${issue.message}`);
      }
    }
    if (seen.has(config?.issuer)) problems.push(`issuers[${index}]: duplicate issuer ${config.issuer}`);
    seen.add(config?.issuer);
  });
  if (configs.length === 0) problems.push('at least one issuer is required');
  if (problems.length > 0) {
    throw new McxError(AuthConfigErrorCode.AUTH_CONFIG_INVALID, `Invalid issuer configuration:\n${problems.join('\n')}`);
  }
}

/** True when the configuration is for the development issuer, which production must refuse. */
export function isDevIssuer(config: Pick<IssuerConfig, 'issuer'>): boolean {
  return config.issuer === DEV_ISSUER;
}

/**
 * What production refuses in the issuers a node trusts, one line each (empty: none): the
 * development issuer, a JWKS URL over plain HTTP (loopback included), an inline `jwks` (the
 * keys must come from the issuer, so that its key rotation reaches the node without a
 * redeployment, and no one edits trust into a file), and an issuer with no explicit `typ`, since
 * without it a token of another kind from the same issuer (an ID token) would be accepted as
 * an access token (RFC 8725 section 3.11).
 */
export function productionIssuerProblems(configs: readonly IssuerConfig[]): string[] {
  const problems: string[] = [];
  for (const c of configs) {
    const where = `issuer ${c.id} (${c.issuer})`;
    if (isDevIssuer(c)) problems.push('production refuses the development token issuer');
    if (c.jwksUrl && !c.jwksUrl.startsWith('https://')) problems.push(`${where}: production refuses JWKS URLs over plain HTTP`);
    if (c.jwks)
      problems.push(
        `${where}: production refuses an inline jwks: set jwksUrl to the issuer's https JWKS (a private CA: NODE_EXTRA_CA_CERTS)`,
      );
    if (!c.typ)
      problems.push(`${where}: production requires an explicit typ (for example "at+jwt") so that no other kind of token is accepted`);
  }
  return problems;
}
