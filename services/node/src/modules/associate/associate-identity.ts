import type { McxAssociateInput } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { linkageError } from '../../errors.js';
import type { InTx } from '../records/record-store-model.js';
import type { FieldError } from '../records/validation.js';
import { identityErrors, toIdentity } from '../subject/subject-service.js';

/**
 * Associates may come with identity: it is checked, turned into linkage keys (one linkage
 * call per associate) and stored with the record in one transaction with its audit entry.
 * The identity itself is never stored, signed or disclosed.
 */
export async function associateKeyWriters(
  ctx: Context,
  inputs: readonly McxAssociateInput[],
  batch: boolean,
): Promise<{ errors: FieldError[]; write: (audit: InTx) => InTx }> {
  const now = new Date();
  const errors = inputs.flatMap((input, index) =>
    input.identity ? identityErrors(toIdentity(input.identity), now).map((e) => (batch ? { ...e, index } : e)) : [],
  );
  if (errors.length > 0) return { errors, write: (audit) => audit };
  const writers: InTx[] = [];
  for (const input of inputs) {
    if (!input.identity || !input.id) continue;
    const keys = await ctx.services.subjects.deriveRecordKeys(toIdentity(input.identity)).catch(linkageError);
    writers.push(ctx.services.subjects.associateKeysWriter(input.id.toLowerCase(), keys));
  }
  return {
    errors: [],
    write: (audit) => async (tx, stored) => {
      await audit(tx, stored);
      for (const w of writers) await w(tx, stored);
    },
  };
}
