/**
 * The disclosure matrix: requesters (organisation kind, role, purpose) against episodes of each
 * handling code, condition and grade, with what each requester must get. Written out by hand
 * from the rules in DESIGN.md, not computed by the code under test. Shared by the local
 * disclosure tests and the federated parity test, so both hold the owner to the same table.
 */
import type { OrgKind, Role } from '@mcx/auth';
import type { McxGradingInput } from '@mcx/client';

export const P: McxGradingInput = { scheme: '3x5x2', source: '1', intelligence: 'A', handling: 'P', conditions: [] };
export const grade = (intelligence: string, handling: 'P' | 'C', conditions: McxGradingInput['conditions'] = []): McxGradingInput => ({
  scheme: '3x5x2',
  source: '2',
  intelligence,
  handling,
  conditions,
});

/** The episodes of the matrix: each one handling code, condition or grade. */
export const RECORDS = {
  ungraded: null,
  p: P,
  e: grade('E', 'P'),
  policeOnly: grade('B', 'C', ['POLICE_ONLY']),
  partners: grade('B', 'C', ['STATUTORY_PARTNERS_ONLY']),
  confirm: grade('B', 'C', ['CONFIRM_WITH_OWNER']),
} as const;
export type RecordName = keyof typeof RECORDS;

export interface Requester {
  name: string;
  orgKind: OrgKind;
  force: string;
  purpose: string;
  roles?: Role[];
}

/**
 * What each requester gets: the records disclosed (others withheld as not disclosable), whether
 * the sensitive indicators (CSE, SELF_HARM) come back, and whether the foster placement address
 * is exact (only police, and only for handling P; coarsened to the district otherwise).
 */
export const MATRIX: { who: Requester; sees: RecordName[]; sensitive: boolean; exactPlacement: RecordName[] }[] = [
  // The owner's own investigators see every record whole, grade E included: nothing leaves the owner.
  {
    who: { name: 'owner police, live search', orgKind: 'police', force: 'WMP', purpose: 'MISSING_LIVE_SEARCH' },
    sees: ['ungraded', 'p', 'e', 'policeOnly', 'partners', 'confirm'],
    sensitive: true,
    exactPlacement: ['ungraded', 'p', 'e', 'policeOnly', 'partners', 'confirm'],
  },
  {
    who: { name: 'other police, live search', orgKind: 'police', force: 'GMP', purpose: 'MISSING_LIVE_SEARCH' },
    sees: ['ungraded', 'p', 'policeOnly', 'partners', 'confirm'],
    sensitive: true,
    exactPlacement: ['ungraded', 'p'],
  },
  {
    who: { name: 'other police, repeat review', orgKind: 'police', force: 'GMP', purpose: 'MISSING_REVIEW' },
    sees: ['ungraded', 'p', 'policeOnly', 'partners', 'confirm'],
    sensitive: false,
    exactPlacement: ['ungraded', 'p'],
  },
  {
    who: { name: 'local authority, strategy', orgKind: 'local_authority', force: 'LABIRM', purpose: 'SAFEGUARDING_STRATEGY' },
    sees: ['ungraded', 'p', 'partners', 'confirm'],
    sensitive: true,
    exactPlacement: [],
  },
  {
    who: { name: 'local authority, review', orgKind: 'local_authority', force: 'LABIRM', purpose: 'MISSING_REVIEW' },
    sees: ['ungraded', 'p', 'partners', 'confirm'],
    sensitive: false,
    exactPlacement: [],
  },
  {
    who: { name: 'provider, return interview', orgKind: 'provider', force: 'PRV001', purpose: 'MISSING_RETURN_INTERVIEW' },
    sees: ['ungraded', 'p', 'confirm'],
    sensitive: true,
    exactPlacement: [],
  },
];

/** Requesters refused outright: their organisation kind, role or purpose admits no read. */
export const REFUSED: { who: Requester; reason: string }[] = [
  {
    who: { name: 'provider, live search', orgKind: 'provider', force: 'PRV001', purpose: 'MISSING_LIVE_SEARCH' },
    reason: 'PURPOSE_NOT_PERMITTED',
  },
  { who: { name: 'police, audit purpose', orgKind: 'police', force: 'GMP', purpose: 'AUDIT_REVIEW' }, reason: 'PURPOSE_NOT_PERMITTED' },
  { who: { name: 'auditor', orgKind: 'police', force: 'WMP', purpose: 'MISSING_LIVE_SEARCH', roles: ['auditor'] }, reason: 'FORBIDDEN' },
  {
    who: { name: 'publisher', orgKind: 'police', force: 'WMP', purpose: 'MISSING_LIVE_SEARCH', roles: ['publisher'] },
    reason: 'FORBIDDEN',
  },
];

/** The matrix's episode: a foster placement with its exact address, and sensitive indicators beside others. */
export const MATRIX_EPISODE = {
  missingFrom: { kind: 'FOSTER' as const, location: { uprn: '100070000001', postcode: 'B15 2TT', lat: 52.45, lon: -1.93 } },
  assessment: { riskGrade: 'HIGH' as const, indicators: ['CSE' as const, 'DRUGS' as const, 'SELF_HARM' as const], regrades: [] },
};
