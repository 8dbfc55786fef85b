/**
 * The four questions a node asks the federation, each an allow-listed operation: its variables,
 * the check its answers get (answer-checks.ts) and how the members' values combine.
 */
import type { OrgKind } from '@mcx/auth';
import {
  PEER_ASSOCIATE_LINKS,
  PEER_HISTORY,
  PEER_LOCATIONS,
  PEER_POINTERS,
  toWireKey,
  type AssociateLinkCounts,
  type WireKey,
} from '@mcx/federation';
import type { DerivedLinkageKey } from '@mcx/linkage';

import type { AuthorisedRead } from '../auth/access.js';
import type { AssociatePointerRecord } from '../modules/associate/associate-model.js';
import type { FederatedEpisodeModel, LocationNearModel } from '../modules/history/history-model.js';
import type { StoredRecord } from '../modules/records/record-kind.js';
import { checkHistory, checkLinks, checkLocations, checkPointers, type Near } from './answer-checks.js';
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

/** The owner's associates to count links for, each with its linkage keys. */
export type CountedAssociate = { owner: string; id: string; keys: readonly WireKey[] };

type QueryBounds = Pick<FanOutBounds, 'deadlineAt'>;

/** A child's episodes at every member, by linkage keys, with associates as pointers and their link counts. */
export async function askHistory(
  client: FederationClient,
  read: AuthorisedRead,
  keys: readonly DerivedLinkageKey[],
  callerEntry: string,
  bounds: QueryBounds = {},
): Promise<FederatedHistory> {
  const verify = client.verifyRecord;
  const out = await client.askAll(
    {
      op: PEER_HISTORY,
      field: 'peerHistory',
      variables: { keys: keys.map(toWireKey) },
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
 * them: asked of each owner, with the owner's link counts (excluding this child).
 */
export async function askPointers(
  client: FederationClient,
  read: AuthorisedRead,
  byOwner: ReadonlyMap<string, readonly string[]>,
  childKeys: readonly DerivedLinkageKey[],
  callerEntry: string,
  bounds: QueryBounds = {},
): Promise<FederatedPointers> {
  const exclude = childKeys.map(toWireKey);
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
): Promise<FederatedLocations> {
  const verify = client.verifyRecord;
  const out = await client.askAll(
    {
      op: PEER_LOCATIONS,
      field: 'peerLocations',
      variables: {
        near: near.map((n) => ({ lat: n.lat, lon: n.lon, radiusMetres: n.radiusMetres })),
        concerns: concerns ? [...concerns] : null,
      },
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

/**
 * The owner asks about its own associates as itself (its own organisation and kind), for the
 * requester's purpose and case: a local authority's node may not speak for a police user, and
 * need not, since counts are the owner's business.
 */
function asOwner(client: FederationClient, read: AuthorisedRead): AuthorisedRead {
  const { forceCode } = client;
  return {
    ...read,
    viewer: {
      subject: `node:${forceCode}`,
      issuer: `mcx-node:${forceCode}`,
      force: forceCode,
      orgKind: (client.self()?.kind ?? 'police') as OrgKind,
      roles: ['investigator'],
      tokenKind: 'user',
    },
  };
}

/**
 * The owner's question to every member: how many children (other than those matching
 * `exclude`) do you link to each of these associates? Cut at a short deadline of its own, since
 * it runs inside another member's request (the caller's remaining time does not travel with the
 * request, so it cannot be used here). Its consultation entry (`callerEntry`) names the
 * requester it asked for.
 */
export async function askAssociateLinks(
  client: FederationClient,
  read: AuthorisedRead,
  associates: readonly CountedAssociate[],
  exclude: readonly WireKey[],
  callerEntry: string,
) {
  const variables = {
    associates: associates.map((a) => ({ owner: a.owner, id: a.id, keys: a.keys.map(toWireKey) })),
    exclude: exclude.map(toWireKey),
  };
  const asked = new Set(associates.map((a) => `${a.owner}/${a.id}`));
  const out = await client.askAll(
    {
      op: PEER_ASSOCIATE_LINKS,
      field: 'peerAssociateLinks',
      variables,
      read: asOwner(client, read),
      callerEntry,
      check: (_m, data) => checkLinks(data, asked),
    },
    { fanOut: 'nested' },
  );
  const complete = out.completeness === 'COMPLETE';
  const byForce = (a: CountedAssociate) =>
    out.values.flatMap((v) =>
      v.value.filter((l) => l.owner === a.owner && l.id === a.id).map((l) => ({ force: v.member, children: l.children })),
    );
  return {
    complete,
    receipts: out.receipts,
    counts: associates.map((a): AssociateLinkCounts => ({ owner: a.owner, id: a.id, byForce: byForce(a), complete })),
  };
}
