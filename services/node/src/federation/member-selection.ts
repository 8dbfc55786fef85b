/**
 * The record locator's choice of members for one child: ask those whose fresh membership filter
 * may hold one of the child's linkage keys, and those whose filter is missing or stale (asked as
 * if there were no locator); skip the rest, reporting each as NOT_HOLDING with its filter's age.
 * A Bloom filter has no false negatives, so a fresh filter that says no is a member that holds
 * none of these keys (as of the filter's version).
 */
import { completeness, filterItem, geoCellsIn, MAX_GEO_CELLS, type MemberResult, type MembershipFilter } from '@mcx/federation';

import { boundingBox } from '../modules/records/location.js';
import type { Near } from './answer-checks.js';
import type { FederatedOutcome, FederationClient } from './federation-client.js';

/** A member's filter as the caller holds it: when the member last confirmed it current. */
export interface HeldFilter {
  filter: MembershipFilter;
  version: number;
  /** filterDigest of its JWS: what the owner's statements that it is current must name. */
  digest: string;
  /** The filter also holds the grid cells of the owner's locations of concern (its payload names GEO_GRID). */
  geo: boolean;
  /** The latest time the owner said it was current, by the owner's clock (ms). */
  vouchedAt: number;
  /** ms since the epoch. */
  confirmedAt: number;
}

/** What the selection needs: the members' filters, how old one may be, and the time. */
export interface FilterView {
  filterOf(member: string): HeldFilter | undefined;
  maxAgeMs: number;
  now(): number;
  /** Told of every search the view chooses members for (the refresher polls only while the node searches). */
  noteSearch?(): void;
}

/** Who to ask, and the rows of those skipped. */
export interface MemberSelection {
  /** True: ask this member. */
  ask(member: string): boolean;
  notHolding: MemberResult[];
}

/**
 * Selects the members of `members` to ask for these filter items: a child's linkage keys, or
 * (`geo`) the grid cells of a search for locations, which only a filter that holds cells can rule out.
 */
export function selectMembers(view: FilterView, members: readonly string[], items: readonly string[], geo = false): MemberSelection {
  const now = view.now();
  const skipped = new Map<string, { age: number; version: number }>();
  for (const member of members) {
    const held = view.filterOf(member);
    if (!held || (geo && !held.geo)) continue;
    const age = Math.max(0, now - held.confirmedAt);
    if (age > view.maxAgeMs || held.filter.mayContainAny(items)) continue;
    skipped.set(member, { age, version: held.version });
  }
  return {
    ask: (member) => !skipped.has(member),
    notHolding: [...skipped].map(([member, { age, version }]) => ({
      member,
      status: 'NOT_HOLDING',
      reason: null,
      latencyMs: 0,
      withheld: null,
      dropped: [],
      filterAgeMs: age,
      filterVersion: version,
    })),
  };
}

/**
 * Runs one federated question by linkage keys (or, `geo`, by grid cells) through the locator: `ask` asks the members the
 * selection keeps, then the skipped members' NOT_HOLDING rows join the answer, in the manifest's
 * order, and completeness is decided over every row. Without a view (MCX_LOCATOR=off, or not
 * federated), or without keys (a search too wide for cells), every member is asked, exactly as
 * without a locator.
 */
export async function withLocator<A extends FederatedOutcome>(
  view: FilterView | null | undefined,
  client: Pick<FederationClient, 'memberHealth'>,
  keys: readonly { keyVersion: string; key: string }[] | null,
  ask: (asked: (member: string) => boolean) => Promise<A>,
  geo = false,
): Promise<A> {
  view?.noteSearch?.();
  if (!view || !keys || keys.length === 0) return ask(() => true);
  const order = client.memberHealth().map((m) => m.code);
  const selection = selectMembers(view, order, keys.map(filterItem), geo);
  const answer = await ask(selection.ask);
  if (selection.notHolding.length === 0) return answer;
  const rank = (m: MemberResult) => order.indexOf(m.member);
  const members = [...answer.members, ...selection.notHolding].sort((a, b) => rank(a) - rank(b));
  return { ...answer, members, completeness: completeness(members) };
}

/**
 * The grid cells (geo-cells.ts) of the boxes a member searches for each point (the box its
 * mcx.locations/1 answer reads, so a location it could return lies in one of them); null when
 * any box is too wide for cells, or all of them together touch more than MAX_GEO_CELLS.
 */
export function cellsNear(near: readonly Near[]): { keyVersion: string; key: string }[] | null {
  const cells = new Map<string, { keyVersion: string; key: string }>();
  for (const n of near) {
    const inBox = geoCellsIn(boundingBox(n, n.radiusMetres));
    if (!inBox) return null;
    for (const c of inBox) cells.set(c.key, c);
    if (cells.size > MAX_GEO_CELLS) return null;
  }
  return [...cells.values()];
}
