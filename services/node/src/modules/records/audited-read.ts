import type { Context } from '../../context.js';
import type { Kind, StoredRecord } from './record-kind.js';

/**
 * One record read, the way every entry point does it (a query field or `_entities`): the read
 * guard, the owner's withholding rules, and the audit entry committed before the record is
 * released.
 */
export async function auditedRead<T extends { reviewAt: string }>(ctx: Context, kind: Kind, operation: string, owner: string, id: string): Promise<StoredRecord<T> | null> {
  const read = await ctx.access.requireRead(operation);
  const { record, withheld } = await ctx.services.records.read<T>(kind, owner, id);
  const key = `${owner}/${id}`;
  await ctx.auditRead(read, operation, [key], record ? [key] : [], withheld);
  return record;
}
