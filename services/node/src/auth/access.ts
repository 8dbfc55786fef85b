import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

import {
  assertCanWrite,
  assertValidIssuerConfigs,
  AuthConfigErrorCode,
  authorize,
  createTokenVerifier,
  hasRole,
  productionIssuerProblems,
  purposeFromRequest,
  readBearerToken,
  requireUserToken,
  TokenErrorCode,
  type CaseRefRules,
  type DevIssuer,
  type IssuerConfig,
  type Operation,
  type RequestPurpose,
  type TokenVerifier,
  type Viewer,
} from '@mcx/auth';
import { ErrorCode, McxError } from '@mcx/errors';

import type { Config } from '../config.js';
import { NodeErrorCode, toGraphQLError } from '../errors.js';
import type { AuditService } from '../modules/audit/audit-service.js';
import type { SecurityLog } from '../modules/audit/security-log.js';
import { admissionRefusal, PolicyRefusalErrorCode, type DisclosurePolicy, type Requester } from '../modules/disclosure/policy.js';

/** The header a router (or peer) uses to pass on the investigator's own token. */
export const FORWARDED_USER_HEADER = 'x-mcx-forwarded-user';

/** Who is asking: the verified token's viewer and claims, and a forwarded user for routers. */
export interface Principal {
  viewer: Viewer;
  claims: Record<string, unknown>;
  forwarded: { viewer: Viewer; claims: Record<string, unknown> } | null;
  /**
   * Set only for a member node calling through the peer protocol (a verified node token): the
   * member (from `iss`), and the purpose and case reference it asserts for its investigator,
   * who is `viewer` (from `act`).
   */
  peer?: { member: string } & RequestPurpose;
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
export function createAuthenticator(
  config: Config,
  devIssuer: DevIssuer | null,
): { authenticate(headers: IncomingHttpHeaders): Promise<Principal | null> } {
  const issuers = config.auth.issuersFile ? loadIssuers(config.auth.issuersFile) : [];
  if (devIssuer) issuers.push(devIssuer.issuerConfig({ force: config.forceCode }));
  if (config.env === 'production') {
    const problems = productionIssuerProblems(issuers);
    if (problems.length > 0) throw new McxError(AuthConfigErrorCode.AUTH_CONFIG_INVALID, problems.join('; '));
  }
  if (issuers.length === 0)
    throw new McxError(AuthConfigErrorCode.AUTH_CONFIG_INVALID, 'no token issuers are configured (MCX_ISSUERS_FILE)');
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
        if (headers.authorization) throw new McxError(TokenErrorCode.TOKEN_MALFORMED, 'Authorization must be "Bearer <token>"');
        return null;
      }
      const principal = await verify(token);
      const forwardedRaw = headers[FORWARDED_USER_HEADER];
      const forwarded = typeof forwardedRaw === 'string' && forwardedRaw ? await verify(forwardedRaw) : null;
      return { ...principal, forwarded };
    },
  };
}

/** Where refusals go: authenticated actors to the audit chain, anonymous noise to the security log. */
export interface RefusalSink {
  audit: AuditService;
  security: SecurityLog;
  /** The caller's address, for the security log. */
  source: string;
}

/**
 * A read that passed its guard: who, and why, and the requester the disclosure policy judges.
 * Its audit entry is written before release.
 */
export type AuthorisedRead = {
  viewer: Viewer;
  requestingNode: string | null;
  requester: Requester;
  /** An auditor of this node's own force, reading here (not through a peer): shown every user's watches and alerts. */
  auditsThisNode?: boolean;
} & RequestPurpose;

/**
 * The per-request guards every resolver awaits before it touches a record. A refusal of an
 * authenticated actor is audited (authorisation_failure) before the error is thrown.
 */
export class RequestAccess {
  constructor(
    private readonly principal: Principal | null,
    private readonly headers: IncomingHttpHeaders,
    private readonly forceCode: string,
    private readonly caseRefRules: CaseRefRules,
    private readonly sink: RefusalSink,
    private readonly policy: DisclosurePolicy,
  ) {}

  get viewer(): Viewer | null {
    return this.principal?.viewer ?? null;
  }

  private async refuse(err: unknown, operation: string): Promise<never> {
    if (err instanceof McxError) {
      if (this.principal) {
        await this.sink.audit
          .record({
            action: 'authorisation_failure',
            viewer: this.principal.viewer,
            operation,
            recordIds: [],
            outcome: 'refused',
            reason: err.code,
          })
          .catch(() => undefined);
      } else {
        this.sink.security.note('unauthenticated', err.code, this.sink.source);
      }
    }
    return toGraphQLError(err);
  }

  /** Any authenticated caller. */
  async requireViewer(operation: string): Promise<Viewer> {
    if (!this.principal) return this.refuse(new McxError(NodeErrorCode.UNAUTHENTICATED, 'Authentication required'), operation);
    return this.principal.viewer;
  }

  async require(op: Operation, operation: string): Promise<Viewer> {
    try {
      const viewer = authorize(this.viewer, op);
      // An auditor reviews, and an operator runs, their own organisation's node: another force's or
      // authority's, whose issuer this node trusts for its investigators, does neither here.
      if ((op === 'audit.read' || op === 'operator.admin') && viewer.force !== this.forceCode)
        throw new McxError(
          ErrorCode.FORBIDDEN,
          `Only ${this.forceCode}'s own ${op === 'audit.read' ? 'auditors' : 'operators'} may do this here`,
        );
      return viewer;
    } catch (err) {
      return this.refuse(err, operation);
    }
  }

  /** A publisher of this node's force: the only one who may write its records. */
  async requireWrite(operation: string): Promise<Viewer> {
    try {
      return assertCanWrite(this.viewer, this.forceCode);
    } catch (err) {
      return this.refuse(err, operation);
    }
  }

  /**
   * A read of records: an investigator's user token (directly, or forwarded by a router),
   * with a coded purpose and a well-formed case reference.
   */
  async requireRead(operation: string): Promise<AuthorisedRead> {
    try {
      const p = this.principal;
      if (!p) throw new McxError(NodeErrorCode.UNAUTHENTICATED, 'Authentication required');
      if (p.peer) return this.admit(p.viewer, p.peer.member, { purpose: p.peer.purpose, caseRef: p.peer.caseRef });
      const acting = p.viewer.roles.includes('router') && p.forwarded ? p.forwarded : p;
      if (acting === p.forwarded) authorize(p.viewer, 'subgraph.entities', { forwardedUser: p.forwarded.viewer });
      const viewer = authorize(acting.viewer, 'record.read');
      requireUserToken(viewer);
      return this.admit(viewer, null, purposeFromRequest(this.headers as never, acting.claims, this.caseRefRules));
    } catch (err) {
      return this.refuse(err, operation);
    }
  }

  /** The owner's policy decides who may read at all (organisation kind, role, purpose). */
  private admit(viewer: Viewer, requestingNode: string | null, purpose: RequestPurpose): AuthorisedRead {
    const requester: Requester = { force: viewer.force, orgKind: viewer.orgKind, roles: viewer.roles, purpose: purpose.purpose };
    const refusal = admissionRefusal(this.policy, requester);
    if (refusal)
      throw new McxError(
        refusal,
        `The disclosure policy does not admit this ${refusal === PolicyRefusalErrorCode.ROLE_NOT_PERMITTED ? 'role' : 'purpose'} for ${viewer.orgKind} requesters`,
      );
    const auditsThisNode = requestingNode === null && hasRole(viewer, 'auditor') && viewer.force === this.forceCode;
    return { viewer, requestingNode, requester, auditsThisNode, ...purpose };
  }

  /** A member node's read through the peer protocol (never a user on /graphql). */
  async requirePeer(operation: string): Promise<AuthorisedRead> {
    if (!this.principal?.peer)
      return this.refuse(new McxError(NodeErrorCode.PEER_ONLY, 'Only member nodes may use this, through the peer protocol'), operation);
    return this.requireRead(operation);
  }

  /**
   * A member asking, as itself, about records it owns (link counts for its own associates):
   * nobody else, since counts over another owner's keys would tell whether this node holds someone.
   */
  async requireOwnerPeer(operation: string, owners: readonly string[]): Promise<AuthorisedRead> {
    const read = await this.requirePeer(operation);
    if (read.requester.force !== read.requestingNode || owners.some((o) => o !== read.requestingNode)) {
      return this.refuse(
        new McxError(NodeErrorCode.LINK_COUNTS_OWNER_ONLY, 'Only the owner of the associates, asking as itself, may count their links'),
        operation,
      );
    }
    return read;
  }

  /** `_service` and `_entities` in production: a router credential forwarding an investigator. */
  async requireRouter(operation: string): Promise<Viewer> {
    try {
      return authorize(this.viewer, 'subgraph.service', { forwardedUser: this.principal?.forwarded?.viewer ?? null });
    } catch (err) {
      return this.refuse(err, operation);
    }
  }
}
