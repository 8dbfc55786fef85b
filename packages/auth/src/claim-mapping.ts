/**
 * Verified claims -> Viewer, per issuer.
 *
 * `entra` (Microsoft Entra ID access tokens, v1 or v2):
 * - app roles come from `roles` (array); delegated scopes from `scp` (space-separated),
 *   and both go through `roleMap`; scopes count for user tokens only;
 * - `idtyp: 'app'` marks an app-only (client-credentials) token and `idtyp: 'user'` a user
 *   token. `idtyp` is an optional claim in Entra, so when it is absent a token with `scp`
 *   is a user token and one without is treated as a client: delegated tokens always carry
 *   `scp`, and the safe mistake is to under-trust;
 * - subject: `oid`, else `sub`.
 *
 * `plain` (any other OIDC provider, and the development issuer):
 * - roles from `roles` (array, or space-separated string), else `role` (string), through
 *   `roleMap`;
 * - the token is a client token when any of these holds: `mcx_token_kind: 'client'`,
 *   `gty: 'client-credentials'` (Auth0), or `sub` equals `client_id` (Keycloak, Okta,
 *   Cognito client-credentials). Otherwise it is a user token. `mcx_token_kind` with a
 *   value other than `client` or `user` is malformed;
 * - subject: `sub`.
 *
 * The development issuer stands in for every issuer of the demo federation (force, local
 * authority, provider), so for it alone `mcx_force` and `mcx_org_kind` claims, when
 * present, override the configured force and organisation kind. Production refuses it.
 */
import type { JWTPayload } from 'jose';

import { McxError, UnreachableCaseError } from '@mcx/errors';

import { isDevIssuer, type IssuerConfig } from './issuers.js';
import { TokenErrorCode } from './token-errors.js';
import { FORCE_CODE, IDENTIFIER, isOrgKind, isRole, type OrgKind, type Role, type TokenKind, type Viewer } from './viewer.js';

const MAX_SUBJECT_LENGTH = 256;

function malformed(message: string): McxError {
  return new McxError(TokenErrorCode.TOKEN_MALFORMED, message);
}

function stringList(value: unknown, claim: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw malformed(`Claim ${claim} must be a string or an array of strings`);
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformed(`Claim ${claim} must be a string`);
  return value;
}

/** External names -> MCX roles; unknown names are ignored, never an error. */
export function mapRoles(names: readonly string[], roleMap: Record<string, Role> | undefined): Role[] {
  const roles = new Set<Role>();
  for (const name of names) {
    const role = roleMap ? (Object.hasOwn(roleMap, name) ? roleMap[name] : undefined) : name;
    if (isRole(role)) roles.add(role);
  }
  return [...roles];
}

interface Mapped {
  subject: string | undefined;
  roleNames: string[];
  tokenKind: TokenKind;
}

function mapEntra(payload: JWTPayload): Mapped {
  const idtyp = optionalString(payload, 'idtyp');
  const scopes = stringList(optionalString(payload, 'scp'), 'scp');
  if (payload.roles !== undefined && !Array.isArray(payload.roles)) {
    throw malformed('Claim roles must be an array of strings');
  }
  const appRoles = stringList(payload.roles, 'roles');
  let tokenKind: TokenKind;
  if (idtyp === 'app') tokenKind = 'client';
  else if (idtyp === 'user') tokenKind = 'user';
  else if (idtyp === undefined) tokenKind = payload.scp === undefined ? 'client' : 'user';
  else throw malformed(`Unknown idtyp ${idtyp}`);
  return {
    subject: optionalString(payload, 'oid') ?? payload.sub,
    roleNames: tokenKind === 'user' ? [...appRoles, ...scopes] : appRoles,
    tokenKind,
  };
}

function mapPlain(payload: JWTPayload): Mapped {
  const declared = optionalString(payload, 'mcx_token_kind');
  if (declared !== undefined && declared !== 'client' && declared !== 'user') {
    throw malformed(`Unknown mcx_token_kind ${declared}`);
  }
  const clientId = optionalString(payload, 'client_id');
  const isClient = declared === 'client' || payload.gty === 'client-credentials' || (clientId !== undefined && payload.sub === clientId);
  const roleNames = payload.roles !== undefined ? stringList(payload.roles, 'roles') : stringList(payload.role, 'role');
  return { subject: payload.sub, roleNames, tokenKind: isClient ? 'client' : 'user' };
}

/** Builds the Viewer from the claims of a token already verified against `config`. */
export function viewerFromClaims(config: IssuerConfig, payload: JWTPayload): Viewer {
  let mapped: Mapped;
  switch (config.claimMapping) {
    case 'entra':
      mapped = mapEntra(payload);
      break;
    case 'plain':
      mapped = mapPlain(payload);
      break;
    default:
      throw new UnreachableCaseError(config.claimMapping);
  }
  const { subject } = mapped;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw malformed('Token has no usable subject (oid or sub)');
  }
  // Every read is audited under its subject; one the audit log cannot hold is refused here, not there.
  if (!IDENTIFIER.test(subject)) throw malformed('Token subject (oid or sub) must be printable ASCII without spaces');
  let force = config.force;
  let orgKind: OrgKind = config.orgKind;
  if (isDevIssuer(config)) {
    force = optionalString(payload, 'mcx_force') ?? force;
    if (!FORCE_CODE.test(force)) throw malformed('mcx_force must be a force code');
    const claimedKind = payload.mcx_org_kind;
    if (claimedKind !== undefined && !isOrgKind(claimedKind)) throw malformed('Unknown mcx_org_kind');
    orgKind = claimedKind ?? orgKind;
  }
  const roles = mapRoles(mapped.roleNames, config.roleMap);
  if (roles.length === 0) {
    throw new McxError(TokenErrorCode.TOKEN_NO_ROLES, `Token from ${config.id} carries no MCX role`);
  }
  return { subject, issuer: config.issuer, force, orgKind, roles, tokenKind: mapped.tokenKind };
}
