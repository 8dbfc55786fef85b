import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { NodeErrorCode } from '../../errors.js';
import { disclose, type Discloser } from '../disclosure/disclose.js';
import type { Requester } from '../disclosure/policy.js';
import type { Kind, StoredRecord } from './record-kind.js';

/** What a shaper makes of a readable record: the view to release, or the code it was withheld for. */
export type Shaped<R> = { released: R } | { withheld: string };

/** The owner's disclosure policy on one record: the record (or its disclosed view), or NOT_DISCLOSABLE with its rule. */
export function shapeByPolicy<T extends { kind: Kind; owner: string }>(
  discloser: Discloser,
  requester: Requester,
  stored: StoredRecord<T>,
): Shaped<StoredRecord<T>> {
  const d = disclose(discloser, requester, stored);
  return d.outcome === 'disclosed' ? { released: d.record } : { withheld: notDisclosable(d.rule) };
}

/** shapeByPolicy with this request's discloser. */
export function byPolicy<T extends { kind: Kind; owner: string }>(
  ctx: Context,
  requester: Requester,
  stored: StoredRecord<T>,
): Shaped<StoredRecord<T>> {
  return shapeByPolicy(ctx.services.disclosure, requester, stored);
}

/** The reason a record was withheld by the owner's policy: NOT_DISCLOSABLE and the rule (NOT_DISCLOSABLE:GRADE_E). */
export function notDisclosable(rule: string): string {
  return `${NodeErrorCode.NOT_DISCLOSABLE}:${rule}`;
}

/**
 * One record read, the way every entry point does it (a query field or `_entities`): the read
 * guard, the owner's withholding rules and disclosure policy, and the audit entry committed
 * before the record is released. A withheld record reads as null, and its reason (for example
 * `NOT_DISCLOSABLE:CONDITION_POLICE_ONLY`) is in the audit entry.
 */
export async function auditedRead<T extends { reviewAt: string; kind: Kind; owner: string }, R = StoredRecord<T>>(
  ctx: Context,
  kind: Kind,
  operation: string,
  owner: string,
  id: string,
  shape: (read: AuthorisedRead, stored: StoredRecord<T>) => Shaped<R> = (read, stored) =>
    byPolicy(ctx, read.requester, stored) as Shaped<R>,
): Promise<R | null> {
  const read = await ctx.access.requireRead(operation);
  const { record, withheld } = await ctx.services.records.read<T>(kind, owner, id);
  const shaped = record ? shape(read, record) : null;
  const released = shaped && 'released' in shaped ? shaped.released : null;
  const reason = withheld ?? (shaped && 'withheld' in shaped ? shaped.withheld : null);
  const key = `${owner}/${id}`;
  await ctx.auditRead(read, operation, [key], released ? [key] : [], reason);
  return released;
}
