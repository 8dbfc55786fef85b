/** Helpers of the record locator's tests (tests/federation/record-locator.test.ts). */
import { PEER_FILTER, requestHash } from '@mcx/federation';

import type { TestNode } from './node.js';

/** Waits until `check` holds (polling), or fails with its last answer. */
export async function eventually<T>(what: () => Promise<T>, check: (t: T) => boolean, withinMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last = await what();
  while (!check(last)) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await what();
  }
  return { value: last, ms: Date.now() - started };
}

/** How many times `t` has logged refusing `member`'s filter with `code`. */
export const refusalsOf = (t: TestNode, code: string, member: string) =>
  t
    .logs()
    .split('\n')
    .filter((l) => l.includes('membership filter refused') && l.includes(`"code":"${code}"`) && l.includes(`"member":"${member}"`)).length;

/** A member's filter as served, with its statement that it is current. */
export type Served = { version: number; jws: string; bits: string; current: string };

export const FILTER_VARIABLES = { known: null };

/** A node token's claims from WMP for mcx.filter/1, as `sub`. */
export const filterClaims = (sub: string) => ({
  act: { sub, iss: 'mcx-node:WMP', org: 'WMP', org_kind: 'police', role: 'investigator' },
  purpose: 'MISSING_LIVE_SEARCH',
  case_ref: 'LOCATOR/FILTERS',
  caller_entry: 'WMP:1',
  req_hash: requestHash(PEER_FILTER.hash, FILTER_VARIABLES),
});
