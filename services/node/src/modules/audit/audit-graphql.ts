import type { StoredEntry } from '@mcx/audit';

import type { McxAuditAction, McxAuditOutcome } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { BadUserInputError } from '../../errors.js';

const MAX_PAGE = 1000;

export function page(first: number | null | undefined, after: string | null | undefined): { first: number; afterSeq: number | null } {
  const size = first ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE}`);
  const afterSeq = after == null ? null : Number(after);
  if (afterSeq !== null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw new BadUserInputError('after is not a cursor of this log');
  return { first: size, afterSeq };
}

export function toGraphql(s: StoredEntry) {
  const e = s.entry;
  return {
    seq: s.seq,
    at: e.at,
    action: e.action.toUpperCase() as McxAuditAction,
    actor: { ...e.actor, issuer: e.actor.issuer ?? null },
    requestingNode: e.requestingNode,
    purpose: e.purpose,
    caseRef: e.caseRef,
    operation: e.query.operation,
    queryRecordIds: e.query.recordIds,
    recordIds: e.recordIds,
    outcome: e.outcome.toUpperCase() as McxAuditOutcome,
    reason: e.reason,
    prevHash: s.prevHash,
    hash: s.hash,
  };
}

/**
 * An auditor's own use of the log is audited too. The entry is written after the answer is
 * computed (so an integrity check does not count itself) and before it is released.
 */
export async function asAuditor<T>(ctx: Context, operation: string, queryIds: string[], answer: () => Promise<T>): Promise<T> {
  const viewer = await ctx.access.require('audit.read', operation);
  const result = await answer();
  await ctx.auditRead({ viewer, requestingNode: null, purpose: 'AUDIT_REVIEW', caseRef: null }, operation, queryIds, []);
  return result;
}
