/**
 * The disclosure policy (DESIGN.md "Disclosure policy"): the owner of a record decides what
 * each requester may see, before anything leaves it. The same decision runs for a local read
 * and for a peer's read.
 *
 * The policy is declarative configuration (MCX_DISCLOSURE_POLICY_FILE, JSON) with defaults.
 * Two rules are not configurable, because no force may loosen them:
 * - intelligence graded E (suspected false or malicious) never leaves its owner;
 * - an associate's name never travels in an answer (see requestAssociateDetails).
 */
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { ORG_KINDS, PURPOSES, ROLES, type OrgKind, type Purpose, type Role } from '@mcx/auth';
import { McxError } from '@mcx/errors';

import { NodeErrorCode } from '../../errors.js';
import type { Grading } from '../records/grading.js';
import type { Kind } from '../records/record-kind.js';

const KIND_NAMES = ['episode', 'associate', 'location_of_concern'] as const satisfies readonly Kind[];
const SENSITIVE = [
  'CSE',
  'SELF_HARM',
  'MENTAL_HEALTH',
  'CCE_COUNTY_LINES',
  'TRAFFICKING_MODERN_SLAVERY',
  'GANG_ASSOCIATION',
  'DRUGS',
  'ALCOHOL',
  'ONLINE_GROOMING',
  'VIOLENCE',
] as const;
const RHI_THEMES = [
  'FAMILY_CONFLICT',
  'PLACEMENT_UNHAPPY',
  'PEER_INFLUENCE',
  'EXPLOITATION_CONCERN',
  'SUBSTANCE_USE',
  'EDUCATION',
  'MENTAL_HEALTH',
  'BULLYING',
  'RELATIONSHIP',
  'OTHER',
] as const;
const PLACE_KINDS = ['HOME', 'FOSTER', 'CHILDRENS_HOME', 'SEMI_INDEPENDENT', 'SCHOOL', 'OTHER'] as const;

const orgKinds = z.array(z.enum(ORG_KINDS));

/** The policy file's schema. Every list is a list of codes; unknown codes are refused. */
/** Why the owner's policy refuses a requester: any read at all (admission), or an associate's name. */
export const PolicyRefusalErrorCode = {
  ROLE_NOT_PERMITTED: 'ROLE_NOT_PERMITTED',
  PURPOSE_NOT_PERMITTED: 'PURPOSE_NOT_PERMITTED',
  DETAILS_ORG_KIND_NOT_PERMITTED: 'DETAILS_ORG_KIND_NOT_PERMITTED',
  DETAILS_PURPOSE_NOT_PERMITTED: 'DETAILS_PURPOSE_NOT_PERMITTED',
  DETAILS_UNGRADED: 'DETAILS_UNGRADED',
  DETAILS_GRADE_E: 'DETAILS_GRADE_E',
  DETAILS_HANDLING_NOT_PERMITTED: 'DETAILS_HANDLING_NOT_PERMITTED',
} as const;
export type PolicyRefusalErrorCode = (typeof PolicyRefusalErrorCode)[keyof typeof PolicyRefusalErrorCode];

export const DisclosurePolicySchema = z
  .object({
    /** Named in every disclosed record and audit entry, so an auditor knows which rules applied. */
    version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/),
    /** Who may read at all: per organisation kind, the roles, purposes and record kinds. */
    readers: z.partialRecord(
      z.enum(ORG_KINDS),
      z.strictObject({ roles: z.array(z.enum(ROLES)).min(1), purposes: z.array(z.enum(PURPOSES)), kinds: z.array(z.enum(KIND_NAMES)) }),
    ),
    /** The organisation kinds each exclusive handling condition admits. */
    conditions: z.strictObject({ POLICE_ONLY: orgKinds, STATUTORY_PARTNERS_ONLY: orgKinds }),
    /** Sensitive indicators and interview themes (DPA 2018 s35): released only where strictly necessary. */
    sensitive: z.strictObject({
      indicators: z.array(z.enum(SENSITIVE)),
      rhiThemes: z.array(z.enum(RHI_THEMES)),
      /** Per purpose, the organisation kinds for which they are strictly necessary. */
      necessaryFor: z.partialRecord(z.enum(PURPOSES), orgKinds),
    }),
    /** Placement addresses: coarsened to postcode district unless the recipient is exempt. */
    placements: z.strictObject({
      placeKinds: z.array(z.enum(PLACE_KINDS)),
      /** Exact addresses go only to these organisation kinds, and only for these handling codes. */
      exactFor: z.strictObject({ orgKinds, handling: z.array(z.enum(['P', 'C'])) }),
    }),
    /** Who may ask an owner for an associate's name (requestAssociateDetails). */
    associateDetails: z.strictObject({ orgKinds, handling: z.array(z.enum(['P', 'C'])), purposes: z.array(z.enum(PURPOSES)) }),
  })
  .strict();

export type DisclosurePolicy = z.infer<typeof DisclosurePolicySchema>;

/**
 * The defaults. Police read everything for the operational purposes; local authorities read
 * for safeguarding and the return home interview; a commissioned provider reads episodes only,
 * for the return home interview it was commissioned to hold.
 */
export const DEFAULT_DISCLOSURE_POLICY: DisclosurePolicy = {
  version: 'mcx-default-1',
  readers: {
    police: {
      roles: ['investigator'],
      purposes: ['MISSING_LIVE_SEARCH', 'MISSING_RETURN_INTERVIEW', 'SAFEGUARDING_STRATEGY', 'MISSING_REVIEW'],
      kinds: ['episode', 'associate', 'location_of_concern'],
    },
    local_authority: {
      roles: ['investigator'],
      purposes: ['MISSING_LIVE_SEARCH', 'MISSING_RETURN_INTERVIEW', 'SAFEGUARDING_STRATEGY', 'MISSING_REVIEW'],
      kinds: ['episode', 'associate', 'location_of_concern'],
    },
    provider: { roles: ['investigator'], purposes: ['MISSING_RETURN_INTERVIEW'], kinds: ['episode'] },
  },
  conditions: { POLICE_ONLY: ['police'], STATUTORY_PARTNERS_ONLY: ['police', 'local_authority'] },
  sensitive: {
    indicators: ['SELF_HARM', 'MENTAL_HEALTH', 'CSE'],
    rhiThemes: ['MENTAL_HEALTH'],
    necessaryFor: {
      MISSING_LIVE_SEARCH: ['police', 'local_authority'],
      SAFEGUARDING_STRATEGY: ['police', 'local_authority'],
      MISSING_RETURN_INTERVIEW: ['police', 'local_authority', 'provider'],
    },
  },
  placements: { placeKinds: ['FOSTER', 'CHILDRENS_HOME'], exactFor: { orgKinds: ['police'], handling: ['P'] } },
  associateDetails: { orgKinds: ['police'], handling: ['P'], purposes: ['MISSING_LIVE_SEARCH', 'SAFEGUARDING_STRATEGY'] },
};

/** Reads and validates a policy file; null gives the defaults. Throws DISCLOSURE_POLICY_INVALID. */
export function loadDisclosurePolicy(file: string | null): DisclosurePolicy {
  if (!file) return DEFAULT_DISCLOSURE_POLICY;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new McxError(
      'DISCLOSURE_POLICY_INVALID',
      `the disclosure policy file cannot be read as JSON (${(err as NodeJS.ErrnoException).code ?? 'parse error'})`,
    );
  }
  const parsed = DisclosurePolicySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new McxError(NodeErrorCode.DISCLOSURE_POLICY_INVALID, `the disclosure policy is invalid: ${problems}`);
  }
  return parsed.data;
}

/** Who is asking, as the owner sees them: from a user token locally, from a node token's `act` for a peer. */
export interface Requester {
  /** The requester's force or authority code (for a peer: the calling member, from `iss`). */
  force: string;
  orgKind: OrgKind;
  roles: readonly Role[];
  purpose: Purpose;
}

/** Why a record was left out of an answer. */
export type WithheldReason = 'RESTRICTED' | 'REVIEW_OVERDUE' | 'NOT_DISCLOSABLE';

/** The rule that made a record not disclosable; it goes to the audit entry, never to the requester. */
export type PolicyRule = 'KIND_NOT_PERMITTED' | 'GRADE_E' | 'CONDITION_POLICE_ONLY' | 'CONDITION_STATUTORY_PARTNERS_ONLY';

/**
 * Whether the requester may read at all: their organisation kind, one of its reader roles, and
 * a purpose the policy lists for it. Returns the refusal code, or null.
 */
export function admissionRefusal(
  policy: DisclosurePolicy,
  r: Pick<Requester, 'orgKind' | 'roles' | 'purpose'>,
): typeof PolicyRefusalErrorCode.ROLE_NOT_PERMITTED | typeof PolicyRefusalErrorCode.PURPOSE_NOT_PERMITTED | null {
  const rule = policy.readers[r.orgKind];
  if (!rule || !r.roles.some((role) => rule.roles.includes(role))) return PolicyRefusalErrorCode.ROLE_NOT_PERMITTED;
  if (!rule.purposes.includes(r.purpose)) return PolicyRefusalErrorCode.PURPOSE_NOT_PERMITTED;
  return null;
}

/** What the policy needs to know of a record to decide whether it may go at all. */
export interface RecordFacts {
  kind: Kind;
  owner: string;
  grading: Grading | null;
}

/** True when the requester belongs to the record's owner (a read that does not leave it). */
export function isOwner(r: Pick<Requester, 'force'>, record: Pick<RecordFacts, 'owner'>): boolean {
  return r.force === record.owner;
}

/**
 * The record-level decision: the rule that withholds the record from this requester, or null
 * when it may be disclosed (field-level rules then apply; see disclose.ts). An ungraded record
 * (an episode is a record of fact) is treated as handling P with no conditions.
 */
export function withholdingRule(policy: DisclosurePolicy, r: Requester, record: RecordFacts): PolicyRule | null {
  const reader = policy.readers[r.orgKind];
  if (!reader || !reader.kinds.includes(record.kind)) return 'KIND_NOT_PERMITTED';
  const g = record.grading;
  if (g?.intelligence === 'E' && !isOwner(r, record)) return 'GRADE_E';
  if (g?.conditions.includes('POLICE_ONLY') && !policy.conditions.POLICE_ONLY.includes(r.orgKind)) return 'CONDITION_POLICE_ONLY';
  if (g?.conditions.includes('STATUTORY_PARTNERS_ONLY') && !policy.conditions.STATUTORY_PARTNERS_ONLY.includes(r.orgKind))
    return 'CONDITION_STATUTORY_PARTNERS_ONLY';
  return null;
}

/** True when sensitive indicators and themes are strictly necessary for this requester's purpose. */
export function sensitiveReleased(policy: DisclosurePolicy, r: Requester): boolean {
  return policy.sensitive.necessaryFor[r.purpose]?.includes(r.orgKind) ?? false;
}

/** True when placement addresses go to this requester exactly (police, handling P by default). */
export function exactPlacements(policy: DisclosurePolicy, r: Requester, grading: Grading | null): boolean {
  return policy.placements.exactFor.orgKinds.includes(r.orgKind) && policy.placements.exactFor.handling.includes(grading?.handling ?? 'P');
}

/**
 * Whether an associate's name may be released to this requester: police, a listed purpose, a
 * handling code the policy allows (P by default), and never intelligence graded E. Returns the
 * refusal code, or null.
 */
export function associateDetailsRefusal(policy: DisclosurePolicy, r: Requester, grading: Grading | null): PolicyRefusalErrorCode | null {
  const p = policy.associateDetails;
  if (!p.orgKinds.includes(r.orgKind)) return PolicyRefusalErrorCode.DETAILS_ORG_KIND_NOT_PERMITTED;
  if (!p.purposes.includes(r.purpose)) return PolicyRefusalErrorCode.DETAILS_PURPOSE_NOT_PERMITTED;
  if (!grading) return PolicyRefusalErrorCode.DETAILS_UNGRADED;
  if (grading.intelligence === 'E') return PolicyRefusalErrorCode.DETAILS_GRADE_E;
  if (!p.handling.includes(grading.handling)) return PolicyRefusalErrorCode.DETAILS_HANDLING_NOT_PERMITTED;
  return null;
}
