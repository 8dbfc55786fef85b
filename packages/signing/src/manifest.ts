import { McxError } from '@mcx/errors';

import { isEd25519PublicJwk, jwkThumbprint, MEMBER_KEY_JOBS, type Ed25519PublicJwk, type MemberKeyJob } from './keys.js';
import { ManifestErrorCode } from './signing-errors.js';

/** The kinds of federation member. */
export const MEMBER_KINDS = ['police', 'local_authority', 'provider'] as const;

/** A kind of federation member. */
export type MemberKind = (typeof MEMBER_KINDS)[number];

/** Key statuses: `active` signs; `verify-only` no longer signs but still verifies; `revoked` never verifies. */
export const KEY_STATUSES = ['active', 'verify-only', 'revoked'] as const;

/** The status of a member key. */
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** One key of a member, for one job. */
export interface ManifestKey {
  /** RFC 7638 thumbprint of `jwk`. */
  kid: string;
  job: MemberKeyJob;
  jwk: Ed25519PublicJwk;
  status: KeyStatus;
  /** Informational: when the operator means to drop the key (ISO 8601). Verification does not consult it. */
  notAfter?: string;
}

/** A federation member: a force, local authority or provider node. */
export interface Member {
  /** Force or organisation code, for example `WMP`. */
  code: string;
  name: string;
  kind: MemberKind;
  /** The node's peer endpoint URL. */
  endpoint: string;
  /** The organisation's 24/7 control room number (organisational, never a person's). */
  contact24x7: string;
  keys: ManifestKey[];
  capabilities: string[];
}

/** The signed list of federation members and their keys. */
export interface TrustManifest {
  /** Increases on every change; a node refuses any version below the highest it has seen. */
  version: number;
  issuedAt: string;
  validFrom: string;
  validUntil: string;
  /** After `validUntil`, nodes warn for this long and then refuse. */
  graceSeconds: number;
  operator: { kid: string };
  members: Member[];
}

const MEMBER_CODE = /^[A-Z0-9][A-Z0-9_-]{1,15}$/;
const CONTACT = /^\+?[0-9][0-9 ()-]{5,24}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

type Problems = string[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function isInstant(value: unknown): value is string {
  return typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function hasCredentials(value: string): boolean {
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

/** A member's endpoint as it may be shown (doctor, the node's status page): any user name or password taken out. */
export function shownEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (url.username === '' && url.password === '') return endpoint;
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return '(not a URL)';
  }
}

function checkKey(key: unknown, at: string, problems: Problems): void {
  if (!isRecord(key)) return void problems.push(`${at} is not an object`);
  if (!(MEMBER_KEY_JOBS as readonly unknown[]).includes(key.job)) problems.push(`${at}.job is not a member key job`);
  if (!(KEY_STATUSES as readonly unknown[]).includes(key.status)) problems.push(`${at}.status is invalid`);
  if (key.notAfter !== undefined && !isInstant(key.notAfter)) problems.push(`${at}.notAfter is not an ISO instant`);
  if (!isEd25519PublicJwk(key.jwk)) return void problems.push(`${at}.jwk is not an Ed25519 public JWK`);
  if (key.kid !== jwkThumbprint(key.jwk)) problems.push(`${at}.kid is not the RFC 7638 thumbprint of its jwk`);
}

function checkMember(member: unknown, at: string, problems: Problems): void {
  if (!isRecord(member)) return void problems.push(`${at} is not an object`);
  if (typeof member.code !== 'string' || !MEMBER_CODE.test(member.code)) problems.push(`${at}.code is invalid`);
  if (!nonEmptyString(member.name)) problems.push(`${at}.name is empty`);
  if (!(MEMBER_KINDS as readonly unknown[]).includes(member.kind)) problems.push(`${at}.kind is invalid`);
  if (!isHttpUrl(member.endpoint)) problems.push(`${at}.endpoint is not an http(s) URL`);
  if (typeof member.contact24x7 !== 'string' || !CONTACT.test(member.contact24x7)) {
    problems.push(`${at}.contact24x7 is not a phone number`);
  }
  if (!Array.isArray(member.capabilities) || !member.capabilities.every(nonEmptyString)) {
    problems.push(`${at}.capabilities must be strings`);
  }
  if (!Array.isArray(member.keys)) return void problems.push(`${at}.keys is not an array`);
  member.keys.forEach((key, i) => checkKey(key, `${at}.keys[${i}]`, problems));
}

/** Lists what is wrong with a manifest's shape (empty if it is well formed). */
export function manifestProblems(value: unknown): string[] {
  const problems: Problems = [];
  if (!isRecord(value)) return ['manifest is not an object'];
  if (!Number.isSafeInteger(value.version) || (value.version as number) < 1) problems.push('version must be a positive integer');
  for (const field of ['issuedAt', 'validFrom', 'validUntil'] as const) {
    if (!isInstant(value[field])) problems.push(`${field} is not an ISO instant (UTC, Z)`);
  }
  if (isInstant(value.validFrom) && isInstant(value.validUntil) && Date.parse(value.validFrom) >= Date.parse(value.validUntil)) {
    problems.push('validFrom must be before validUntil');
  }
  if (!Number.isSafeInteger(value.graceSeconds) || (value.graceSeconds as number) < 0) {
    problems.push('graceSeconds must be a non-negative integer');
  }
  if (!isRecord(value.operator) || !nonEmptyString(value.operator.kid)) problems.push('operator.kid is missing');
  if (!Array.isArray(value.members)) return [...problems, 'members is not an array'];
  value.members.forEach((member, i) => checkMember(member, `members[${i}]`, problems));
  if (problems.length > 0) return problems;

  // Uniqueness, so that a code names one member and a kid one key of one member.
  const members = value.members as Member[];
  const codes = new Set<string>();
  const kids = new Set<string>();
  for (const member of members) {
    if (codes.has(member.code)) problems.push(`member code ${member.code} is listed twice`);
    codes.add(member.code);
    for (const key of member.keys) {
      if (kids.has(key.kid)) problems.push(`kid ${key.kid} is listed twice`);
      kids.add(key.kid);
    }
  }
  return problems;
}

/**
 * What a manifest being edited or signed must not carry, beyond its shape: a secret in an
 * endpoint, which every member reads and each node shows its operators. A manifest already
 * signed with one still verifies (manifestProblems leaves it out), so an upgrade cannot cut a
 * federation off; the operator's next edit or signature refuses it.
 */
export function manifestPublicationProblems(manifest: TrustManifest): string[] {
  return manifest.members.flatMap((member, i) =>
    hasCredentials(member.endpoint) ? [`members[${i}].endpoint carries a user name or password`] : [],
  );
}

/** Asserts a manifest is well formed and fit to publish; throws `MANIFEST_MALFORMED` listing every problem. */
export function assertManifest(value: unknown): asserts value is TrustManifest {
  const shape = manifestProblems(value);
  const problems = shape.length > 0 ? shape : manifestPublicationProblems(value as TrustManifest);
  if (problems.length > 0) throw new McxError(ManifestErrorCode.MANIFEST_MALFORMED, `trust manifest is malformed: ${problems.join('; ')}`);
}
