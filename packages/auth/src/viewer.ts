/**
 * Who is asking. A Viewer is built only from a verified token plus the configuration of
 * the issuer that signed it; nothing in it is taken from request headers.
 */

/** The MCX roles; see policy.ts for what each may do. */
export const ROLES = ['publisher', 'investigator', 'auditor', 'operator', 'router'] as const;
/** One MCX role. */
export type Role = (typeof ROLES)[number];

/** The kinds of organisation an issuer can speak for. */
export const ORG_KINDS = ['police', 'local_authority', 'provider'] as const;
/** One kind of organisation (a police force, a local authority, a commissioned provider). */
export type OrgKind = (typeof ORG_KINDS)[number];

/** `user`: a person signed in (delegated); `client`: a system with client credentials. */
export type TokenKind = 'user' | 'client';

/**
 * What a subject and an issuer may hold: printable ASCII, no whitespace (the audit entry's rule for an
 * identifier), so every person a node accepts can be written to its audit log.
 */
export const IDENTIFIER = /^[\x21-\x7e]+$/;

/** A force or organisation code, as the audit entry holds the actor's: letters, digits and `_.:-`, at most 32. */
export const FORCE_CODE = /^[A-Za-z0-9_.:-]{1,32}$/;

/** The authenticated caller of one request. */
export interface Viewer {
  /** Stable id of the person or system at its issuer (Entra `oid`, else `sub`); with `issuer` it is unique and traceable. */
  subject: string;
  /** The `iss` of the verified token. */
  issuer: string;
  /** The force or authority code the issuer is configured for. */
  force: string;
  orgKind: OrgKind;
  /** Never empty: a token that maps to no MCX role is refused. */
  roles: Role[];
  tokenKind: TokenKind;
}

/** True when `value` is one of the MCX roles. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `value` is one of the organisation kinds. */
export function isOrgKind(value: unknown): value is OrgKind {
  return typeof value === 'string' && (ORG_KINDS as readonly string[]).includes(value);
}

/** True when the viewer holds `role`. */
export function hasRole(viewer: Viewer, role: Role): boolean {
  return viewer.roles.includes(role);
}
