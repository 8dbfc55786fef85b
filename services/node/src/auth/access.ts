import { readFileSync } from 'node:fs';
import {
  assertCanWrite,
  assertValidIssuerConfigs,
  authorize,
  createTokenVerifier,
  isDevIssuer,
  purposeFromRequest,
  readBearerToken,
  requireUserToken,
  type CaseRefRules,
  type DevIssuer,
  type IssuerConfig,
  type Operation,
  type RequestPurpose,
  type TokenVerifier,
  type Viewer,
} from '@mcx/auth';
import { McxError } from '@mcx/errors';
import { GraphQLError } from 'graphql';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config.js';

/** The header a router (or peer) uses to pass on the investigator's own token. */
export const FORWARDED_USER_HEADER = 'x-mcx-forwarded-user';

/** Who is asking: the verified token's viewer and claims, and a forwarded user for routers. */
export interface Principal {
  viewer: Viewer;
  claims: Record<string, unknown>;
  forwarded: { viewer: Viewer; claims: Record<string, unknown> } | null;
}

/** Reads the issuers file (a JSON array of IssuerConfig), validated. */
export function loadIssuers(file: string): IssuerConfig[] {
  const issuers = JSON.parse(readFileSync(file, 'utf8')) as IssuerConfig[];
  assertValidIssuerConfigs(issuers);
  return issuers;
}

/**
 * Builds the node's token verifier. Production refuses the development issuer and any JWKS
 * URL that is not https.
 */
export function createAuthenticator(config: Config, devIssuer: DevIssuer | null): { authenticate(headers: IncomingHttpHeaders): Promise<Principal | null> } {
  const issuers = config.auth.issuersFile ? loadIssuers(config.auth.issuersFile) : [];
  if (devIssuer) issuers.push(devIssuer.issuerConfig({ force: config.forceCode }));
  if (config.env === 'production') {
    if (issuers.some((i) => isDevIssuer(i))) throw new McxError('AUTH_CONFIG_INVALID', 'production refuses the development token issuer');
    if (issuers.some((i) => i.jwksUrl && !i.jwksUrl.startsWith('https://'))) throw new McxError('AUTH_CONFIG_INVALID', 'production refuses JWKS URLs over plain HTTP');
  }
  if (issuers.length === 0) throw new McxError('AUTH_CONFIG_INVALID', 'no token issuers are configured (MCX_ISSUERS_FILE)');
  const verifier: TokenVerifier = createTokenVerifier({ issuers, clockToleranceSec: config.auth.clockToleranceSec });

  async function verify(token: string) {
    const { viewer, claims } = await verifier.verifyWithClaims(token);
    return { viewer, claims: claims as Record<string, unknown> };
  }

  return {
    /** Null without an Authorization header; throws TOKEN_* McxErrors for a bad token. */
    async authenticate(headers) {
      const token = readBearerToken(headers.authorization ?? null);
      if (!token) {
        if (headers.authorization) throw new McxError('TOKEN_MALFORMED', 'Authorization must be "Bearer <token>"');
        return null;
      }
      const principal = await verify(token);
      const forwardedRaw = headers[FORWARDED_USER_HEADER];
      const forwarded = typeof forwardedRaw === 'string' && forwardedRaw ? await verify(forwardedRaw) : null;
      return { ...principal, forwarded };
    },
  };
}

function toGraphQLError(err: unknown): never {
  if (err instanceof McxError) {
    const code = err.code === 'UNAUTHENTICATED' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
    throw new GraphQLError(err.message, { extensions: { code, reason: err.code } });
  }
  throw err;
}

/** The per-request guards every resolver calls before it touches a record. */
export class RequestAccess {
  constructor(
    private readonly principal: Principal | null,
    private readonly headers: IncomingHttpHeaders,
    private readonly forceCode: string,
    private readonly caseRefRules: CaseRefRules,
  ) {}

  get viewer(): Viewer | null {
    return this.principal?.viewer ?? null;
  }

  /** Any authenticated caller. */
  requireViewer(): Viewer {
    if (!this.principal) toGraphQLError(new McxError('UNAUTHENTICATED', 'Authentication required'));
    return this.principal.viewer;
  }

  require(operation: Operation): Viewer {
    try {
      return authorize(this.viewer, operation);
    } catch (err) {
      return toGraphQLError(err);
    }
  }

  /** A publisher of this node's force: the only one who may write its records. */
  requireWrite(): Viewer {
    try {
      return assertCanWrite(this.viewer, this.forceCode);
    } catch (err) {
      return toGraphQLError(err);
    }
  }

  /**
   * A read of records: an investigator's user token (directly, or forwarded by a router),
   * with a coded purpose and a well-formed case reference.
   */
  requireRead(): { viewer: Viewer } & RequestPurpose {
    try {
      const p = this.principal;
      if (!p) throw new McxError('UNAUTHENTICATED', 'Authentication required');
      const acting = p.viewer.roles.includes('router') && p.forwarded ? p.forwarded : p;
      if (acting === p.forwarded) authorize(p.viewer, 'subgraph.entities', { forwardedUser: p.forwarded.viewer });
      const viewer = authorize(acting.viewer, 'record.read');
      requireUserToken(viewer);
      return { viewer, ...purposeFromRequest(this.headers as never, acting.claims, this.caseRefRules) };
    } catch (err) {
      return toGraphQLError(err);
    }
  }

  /** `_service` and `_entities` in production: a router credential forwarding an investigator. */
  requireRouter(): Viewer {
    try {
      return authorize(this.viewer, 'subgraph.service', { forwardedUser: this.principal?.forwarded?.viewer ?? null });
    } catch (err) {
      return toGraphQLError(err);
    }
  }
}
