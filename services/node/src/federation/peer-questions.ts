/**
 * The four questions a node asks the federation, each an allow-listed operation: its variables,
 * the check its answers get (answer-checks.ts) and how the members' values combine.
 */
import { PEER_HISTORY, PEER_LOCATIONS, PEER_POINTERS, toWireKey, type AssociateLinkCounts } from '@mcx/federation';
import type { DerivedLinkageKey } from '@mcx/linkage';

import type { AuthorisedRead } from '../auth/access.js';
import type { AssociatePointerRecord } from '../modules/associate/associate-model.js';
import type { FederatedEpisodeModel, LocationNearModel } from '../modules/history/history-model.js';
import type { StoredRecord } from '../modules/records/record-kind.js';
import { checkHistory, checkLocations, checkPointers, type Near } from './answer-checks.js';
import type { FanOutBounds, FederatedOutcome, FederationClient } from './federation-client.js';

export interface FederatedHistory extends FederatedOutcome {
  episodes: FederatedEpisodeModel[];
  associates: StoredRecord<AssociatePointerRecord>[];
  /** The owners' link counts, by `owner/id` of the pointer. */
  links: Map<string, AssociateLinkCounts>;
}

export interface FederatedPointers extends FederatedOutcome {
  pointers: StoredRecord<AssociatePointerRecord>[];
  links: AssociateLinkCounts[];
}

export interface FederatedLocations extends FederatedOutcome {
  locations: LocationNearModel[];
}

type QueryBounds = Pick<FanOutBounds, 'deadlineAt'>;

/**
 * A child's episodes at every member (or those `asked` selects: the record locator), by linkage
 * keys, with associates as pointers and their link counts.
 */
export async function askHistory(
  client: FederationClient,
  read: AuthorisedRead,
  keys: readonly DerivedLinkageKey[],
  callerEntry: string,
  bounds: QueryBounds = {},
  asked: (member: string) => boolean = () => true,
): Promise<FederatedHistory> {
  const verify = client.verifyRecord;
  const variables = { keys: keys.map(toWireKey) };
  const out = await client.askAll(
    {
      op: PEER_HISTORY,
      field: 'peerHistory',
      variables: (member) => (asked(member) ? variables : null),
      read,
      callerEntry,
      check: (member, data) => checkHistory(member, data, verify),
    },
    bounds,
  );
  const links = new Map<string, AssociateLinkCounts>();
  for (const v of out.values) for (const l of v.value.links) links.set(`${l.owner}/${l.id}`, l);
  const { members, completeness, receipts } = out;
  const episodes = out.values.flatMap((v) => v.value.episodes);
  return { members, completeness, receipts, episodes, associates: out.values.flatMap((v) => v.value.associates), links };
}

/**
 * Pointers to associates named by episodes but held by members whose answers did not carry
 * them: asked of each owner, with the owner's stored link counts. The child's keys do not go:
 * the owner no longer counts per child (the caller takes the child out of the counts).
 */
export async function askPointers(
  client: FederationClient,
  read: AuthorisedRead,
  byOwner: ReadonlyMap<string, readonly string[]>,
  callerEntry: string,
  bounds: QueryBounds = {},
): Promise<FederatedPointers> {
  const exclude: never[] = [];
  const verify = client.verifyRecord;
  const out = await client.askAll(
    {
      op: PEER_POINTERS,
      field: 'peerAssociatePointers',
      variables: (member) => (byOwner.has(member) ? { ids: [...byOwner.get(member)!], exclude } : null),
      read,
      callerEntry,
      check: (member, data) => checkPointers(member, data, new Set(byOwner.get(member) ?? []), verify),
    },
    bounds,
  );
  const { members, completeness, receipts } = out;
  return {
    members,
    completeness,
    receipts,
    pointers: out.values.flatMap((v) => v.value.pointers),
    links: out.values.flatMap((v) => v.value.links),
  };
}

/** Locations of concern at every member near the points, optionally with one of `concerns`. */
export async function askLocations(
  client: FederationClient,
  read: AuthorisedRead,
  near: readonly Near[],
  concerns: readonly string[] | null,
  callerEntry: string,
  bounds: QueryBounds = {},
  asked: (member: string) => boolean = () => true,
): Promise<FederatedLocations> {
  const verify = client.verifyRecord;
  const variables = {
    near: near.map((n) => ({ lat: n.lat, lon: n.lon, radiusMetres: n.radiusMetres })),
    concerns: concerns ? [...concerns] : null,
  };
  const out = await client.askAll(
    {
      op: PEER_LOCATIONS,
      field: 'peerLocations',
      variables: (member) => (asked(member) ? variables : null),
      read,
      callerEntry,
      check: (member, data) => checkLocations(member, data, { near, concerns }, verify),
    },
    bounds,
  );
  const { members, completeness, receipts } = out;
  const locations = out.values.flatMap((v) => v.value).sort((a, b) => a.distanceMetres - b.distanceMetres);
  return { members, completeness, receipts, locations };
}
