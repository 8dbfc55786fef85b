// Needs no request context, so that services (reachable from context.ts) can shape records without an import circle.
import { NodeErrorCode } from '../../errors.js';
import type { Kind, StoredRecord } from '../records/record-kind.js';
import { disclose, type Discloser } from './disclose.js';
import type { Requester } from './policy.js';

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

/** The reason a record was withheld by the owner's policy: NOT_DISCLOSABLE and the rule (NOT_DISCLOSABLE:GRADE_E). */
export function notDisclosable(rule: string): string {
  return `${NodeErrorCode.NOT_DISCLOSABLE}:${rule}`;
}
