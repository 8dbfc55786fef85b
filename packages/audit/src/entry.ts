import { McxError } from '@mcx/errors';

import { AuditErrorCode } from './audit-errors.js';

/** What an audit entry records (DESIGN.md "Audit": the DPA 2018 s62 list, plus failed authorisation). */
export const AUDIT_ACTIONS = [
  'collection',
  'alteration',
  'consultation',
  'disclosure',
  'combination',
  'erasure',
  'authorisation_failure',
] as const;

/** One audited action. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** How the audited request ended. */
export const AUDIT_OUTCOMES = ['success', 'refused', 'error'] as const;

/** One outcome. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Who acted: an authenticated subject of a force, with the roles it held. */
export interface AuditActor {
  subject: string;
  /**
   * The `iss` of the token that authenticated the subject (a subject is unique only at its
   * issuer, and a node may accept several). Absent for no token, and in entries written before
   * it was recorded.
   */
  issuer?: string;
  force: string;
  orgKind: string;
  roles: string[];
}

/** The question asked, as record ids and a keyed digest of linkage keys: never names, never raw keys. */
export interface AuditQuery {
  operation: string;
  recordIds: string[];
  linkageDigest: string | null;
}

/** An audit entry as the node builds it, before it is chained. */
export interface AuditEntryInput {
  /** ISO 8601 instant, UTC, with milliseconds: `2025-03-01T12:00:00.000Z`. */
  at: string;
  action: AuditAction;
  actor: AuditActor;
  /** The member code of the node that forwarded the request, or null for a local request. */
  requestingNode: string | null;
  purpose: string | null;
  caseRef: string | null;
  query: AuditQuery;
  /** The record ids touched. */
  recordIds: string[];
  outcome: AuditOutcome;
  /** A code (for example `FORBIDDEN`), never free text that could echo input. */
  reason: string | null;
  /** The id of the matching entry in the peer's log (disclosure receipts), if any. */
  peerEntryId?: string | null;
}

/** A validated audit entry: exactly the known fields, `peerEntryId` always present. */
export type AuditEntry = Omit<AuditEntryInput, 'peerEntryId'> & { peerEntryId: string | null };

/** One validation problem: a field path and a code. Never the offending value, which may be personal data. */
export interface AuditEntryProblem {
  field: string;
  code: string;
}

/** Upper bounds on list sizes; an entry is a row, not a dump. */
export const MAX_RECORD_IDS = 10_000;
const MAX_ROLES = 32;

const ENTRY_KEYS = [
  'at',
  'action',
  'actor',
  'requestingNode',
  'purpose',
  'caseRef',
  'query',
  'recordIds',
  'outcome',
  'reason',
  'peerEntryId',
];
const ACTOR_KEYS = ['subject', 'issuer', 'force', 'orgKind', 'roles'];
const QUERY_KEYS = ['operation', 'recordIds', 'linkageDigest'];

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Identifiers and codes are single printable-ASCII tokens: no spaces, so no names in free text.
const TOKEN = /^[\x21-\x7e]+$/;
const CODE = /^[A-Za-z0-9_.:-]+$/;
const DIGEST = /^[A-Za-z0-9+/=_:.-]{16,256}$/;

type Problems = AuditEntryProblem[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: string[], field: string, problems: Problems): void {
  // The unknown key's name is not reported: it is caller-controlled text.
  if (Object.keys(value).some((key) => !allowed.includes(key))) problems.push({ field, code: 'UNKNOWN_FIELD' });
}

function checkString(value: unknown, field: string, max: number, pattern: RegExp, problems: Problems, nullable = false): void {
  if (value === null && nullable) return;
  if (typeof value !== 'string') problems.push({ field, code: nullable ? 'NOT_A_STRING_OR_NULL' : 'NOT_A_STRING' });
  else if (value.length === 0) problems.push({ field, code: 'EMPTY' });
  else if (value.length > max) problems.push({ field, code: 'TOO_LONG' });
  else if (!pattern.test(value)) problems.push({ field, code: 'BAD_FORMAT' });
}

function checkList(value: unknown, field: string, maxItems: number, maxLength: number, problems: Problems): void {
  if (!Array.isArray(value)) {
    problems.push({ field, code: 'NOT_AN_ARRAY' });
    return;
  }
  if (value.length > maxItems) problems.push({ field, code: 'TOO_MANY' });
  // Report the first bad item only: a list of 10,000 bad ids should not make a 10,000-line error.
  const bad = value.findIndex((item) => typeof item !== 'string' || item.length === 0 || item.length > maxLength || !TOKEN.test(item));
  if (bad >= 0) checkString(value[bad], `${field}[${bad}]`, maxLength, TOKEN, problems);
}

function checkInstant(value: unknown, problems: Problems): void {
  const ok = typeof value === 'string' && ISO_MS_UTC.test(value) && new Date(value).toISOString() === value;
  if (!ok) problems.push({ field: 'at', code: 'NOT_ISO_MS_UTC' });
}

/**
 * True when an entry can record `value` as a record id (`owner/id`): printable ASCII without
 * spaces, at most 128 characters. Check what a caller sends before auditing it, and refuse it as
 * bad input otherwise: an entry that cannot be built cannot be written, and the read fails.
 */
export function isAuditRecordId(value: string): boolean {
  return value.length > 0 && value.length <= 128 && TOKEN.test(value);
}

/** Every problem with a candidate audit entry, as `{ field, code }`; empty when it is valid. */
export function auditEntryProblems(value: unknown): AuditEntryProblem[] {
  const problems: Problems = [];
  if (!isRecord(value)) return [{ field: '', code: 'NOT_AN_OBJECT' }];
  checkKeys(value, ENTRY_KEYS, '', problems);
  checkInstant(value.at, problems);
  if (!(AUDIT_ACTIONS as readonly unknown[]).includes(value.action)) problems.push({ field: 'action', code: 'UNKNOWN_ACTION' });
  if (!(AUDIT_OUTCOMES as readonly unknown[]).includes(value.outcome)) problems.push({ field: 'outcome', code: 'UNKNOWN_OUTCOME' });

  const actor = value.actor;
  if (!isRecord(actor)) problems.push({ field: 'actor', code: 'NOT_AN_OBJECT' });
  else {
    checkKeys(actor, ACTOR_KEYS, 'actor', problems);
    checkString(actor.subject, 'actor.subject', 256, TOKEN, problems);
    if (actor.issuer !== undefined) checkString(actor.issuer, 'actor.issuer', 256, TOKEN, problems);
    checkString(actor.force, 'actor.force', 32, CODE, problems);
    checkString(actor.orgKind, 'actor.orgKind', 32, CODE, problems);
    checkList(actor.roles, 'actor.roles', MAX_ROLES, 64, problems);
  }

  checkString(value.requestingNode, 'requestingNode', 32, CODE, problems, true);
  checkString(value.purpose, 'purpose', 64, CODE, problems, true);
  checkString(value.caseRef, 'caseRef', 64, TOKEN, problems, true);

  const query = value.query;
  if (!isRecord(query)) problems.push({ field: 'query', code: 'NOT_AN_OBJECT' });
  else {
    checkKeys(query, QUERY_KEYS, 'query', problems);
    checkString(query.operation, 'query.operation', 128, TOKEN, problems);
    checkList(query.recordIds, 'query.recordIds', MAX_RECORD_IDS, 128, problems);
    checkString(query.linkageDigest, 'query.linkageDigest', 256, DIGEST, problems, true);
  }

  checkList(value.recordIds, 'recordIds', MAX_RECORD_IDS, 128, problems);
  checkString(value.reason, 'reason', 128, CODE, problems, true);
  if (value.peerEntryId !== undefined) checkString(value.peerEntryId, 'peerEntryId', 128, TOKEN, problems, true);
  return problems;
}

/**
 * Validates an entry and returns a fresh copy holding exactly the known fields (so later mutation
 * of the input cannot change what was hashed); throws `AUDIT_ENTRY_INVALID` naming fields, never values.
 */
export function parseAuditEntry(value: unknown): AuditEntry {
  const problems = auditEntryProblems(value);
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.field || '(entry)'} ${p.code}`).join('; ');
    throw new McxError(AuditErrorCode.AUDIT_ENTRY_INVALID, `audit entry is invalid: ${list}`);
  }
  const input = value as AuditEntryInput;
  return {
    at: input.at,
    action: input.action,
    actor: {
      subject: input.actor.subject,
      ...(input.actor.issuer !== undefined ? { issuer: input.actor.issuer } : {}),
      force: input.actor.force,
      orgKind: input.actor.orgKind,
      roles: [...input.actor.roles],
    },
    requestingNode: input.requestingNode,
    purpose: input.purpose,
    caseRef: input.caseRef,
    query: { operation: input.query.operation, recordIds: [...input.query.recordIds], linkageDigest: input.query.linkageDigest },
    recordIds: [...input.recordIds],
    outcome: input.outcome,
    reason: input.reason,
    peerEntryId: input.peerEntryId ?? null,
  };
}
