/**
 * How the calling node reports each member of a federated read: one row per member, and whether
 * the answer as a whole is complete. An answer is COMPLETE only when every member asked answered
 * in full; anything else is PARTIAL, and says which member fell short and why.
 */
import type { DropReason } from './federation-errors.js';
import type { PeerStatus } from './peer-result.js';
import type { WithheldCounts } from './wire.js';

export type MemberStatus =
  | 'ANSWERED'
  | 'TRUNCATED'
  | 'TIMED_OUT'
  | 'REFUSED'
  | 'UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'BAD_DATA'
  | 'NOT_OFFERED'
  /** Not asked: the member's fresh membership filter (the record locator) says it holds none of the child's keys. */
  | 'NOT_HOLDING';

export type Completeness = 'COMPLETE' | 'PARTIAL';

/** A record the caller dropped from a member's answer; owner and id as the record said, when it said. */
export interface DroppedRecord {
  owner: string | null;
  id: string | null;
  reason: DropReason;
}

/** One member's row in a federated answer (McxMemberResult). */
export interface MemberResult {
  member: string;
  status: MemberStatus;
  reason: string | null;
  latencyMs: number;
  /** integrityFault: null or absent when the member's answer (peer protocol version 1) does not carry it. */
  withheld: WithheldCounts | null;
  dropped: DroppedRecord[];
  /** NOT_HOLDING: how old (ms) the member's filter was, since the member last confirmed it current. */
  filterAgeMs?: number | null;
  /** NOT_HOLDING: the version of the member's filter that said it holds none of the child's keys (the audit names it). */
  filterVersion?: number | null;
}

const FROM_PEER_STATUS: Record<PeerStatus, MemberStatus> = {
  answered: 'ANSWERED',
  timed_out: 'TIMED_OUT',
  refused: 'REFUSED',
  unavailable: 'UNAVAILABLE',
  circuit_open: 'CIRCUIT_OPEN',
  bad_data: 'BAD_DATA',
};

/** The member status a fan-out result starts from, before its answer is checked. */
export function fromPeerStatus(status: PeerStatus): MemberStatus {
  return FROM_PEER_STATUS[status];
}

/** Best first: a member asked twice in one query is reported by the worse of its two answers. */
const RANK: readonly MemberStatus[] = [
  'ANSWERED',
  'NOT_HOLDING',
  'TRUNCATED',
  'BAD_DATA',
  'REFUSED',
  'NOT_OFFERED',
  'CIRCUIT_OPEN',
  'TIMED_OUT',
  'UNAVAILABLE',
];

/** The worse of two statuses; `a` when they rank the same. */
export function worse(a: MemberStatus, b: MemberStatus): MemberStatus {
  return RANK.indexOf(b) > RANK.indexOf(a) ? b : a;
}

/**
 * COMPLETE when every member row is ANSWERED, or NOT_HOLDING (skipped on a fresh filter: a member
 * whose filter was missing or stale is asked, never skipped); no row at all (no member offers the
 * operation) is not complete either.
 */
export function completeness(rows: readonly { status: MemberStatus }[]): Completeness {
  return rows.length > 0 && rows.every((r) => r.status === 'ANSWERED' || r.status === 'NOT_HOLDING') ? 'COMPLETE' : 'PARTIAL';
}
