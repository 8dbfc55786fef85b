import { isAuditRecordId } from '@mcx/audit';

import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { malformedRecordId } from '../../errors.js';
import type { Requester } from '../disclosure/policy.js';
import { shapeByPolicy, type Shaped } from '../disclosure/shape-by-policy.js';
import type { Kind, StoredRecord } from './record-kind.js';

/** shapeByPolicy with this request's discloser. */
export function byPolicy<T extends { kind: Kind; owner: string }>(
  ctx: Context,
  requester: Requester,
  stored: StoredRecord<T>,
): Shaped<StoredRecord<T>> {
  return shapeByPolicy(ctx.services.disclosure, requester, stored);
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
  const key = `${owner}/${id}`;
  if (!isAuditRecordId(key)) {
    // What the audit entry cannot hold is not read: the attempt is audited without it, and refused.
    await ctx.auditRead(read, operation, [], [], 'MALFORMED_RECORD_ID');
    throw malformedRecordId();
  }
  const { record, withheld } = await ctx.services.records.read<T>(kind, owner, id);
  const shaped = record ? shape(read, record) : null;
  const released = shaped && 'released' in shaped ? shaped.released : null;
  const reason = withheld ?? (shaped && 'withheld' in shaped ? shaped.withheld : null);
  await ctx.auditRead(read, operation, [key], released ? [key] : [], reason);
  return released;
}
