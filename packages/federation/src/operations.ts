/**
 * The peer protocol's allow-list. A member may send only these GraphQL documents, named by
 * the SHA-256 of their exact text; each has a versioned name that members list in their
 * trust-manifest capabilities, so members need not upgrade in lockstep.
 */
import { createHash } from 'node:crypto';

/** One allow-listed operation. */
export interface PeerOperation {
  /** The capability name, `mcx.<name>/<version>`. */
  name: string;
  document: string;
  /** Hex SHA-256 of `document`: what a caller sends. */
  hash: string;
}

function operation(name: string, document: string): PeerOperation {
  return { name, document, hash: createHash('sha256').update(document).digest('hex') };
}

/** A child's episodes and the associates they name, for a set of linkage keys. */
export const PEER_HISTORY = operation(
  'mcx.history/1',
  'query McxPeerHistory($keys: [McxPeerKeyInput!]!) { peerHistory(keys: $keys) { matches { subjectRef strength matchedKinds conflicts } records { kind owner id version bytes signature } withheld { restricted reviewOverdue notDisclosable } associateLinks { owner id byForce { force children asOf } complete } } }',
);

/** The owner of associates asks: how many other children do you link to each? (Counts only.) */
export const PEER_ASSOCIATE_LINKS = operation(
  'mcx.associateLinks/1',
  'query McxPeerAssociateLinks($associates: [McxPeerAssociateInput!]!, $exclude: [McxPeerKeyInput!]!) { peerAssociateLinks(associates: $associates, exclude: $exclude) { links { owner id children } } }',
);

/** Locations of concern near points, optionally by concern. */
export const PEER_LOCATIONS = operation(
  'mcx.locations/1',
  'query McxPeerLocations($near: [McxNearInput!]!, $concerns: [McxConcern!]) { peerLocations(near: $near, concerns: $concerns) { records { kind owner id version bytes signature } withheld { restricted reviewOverdue notDisclosable } } }',
);

/** Pointers to associates this member holds that another member's episodes name, with their link counts. */
export const PEER_POINTERS = operation(
  'mcx.pointers/1',
  'query McxPeerPointers($ids: [ID!]!, $exclude: [McxPeerKeyInput!]!) { peerAssociatePointers(ids: $ids, exclude: $exclude) { records { kind owner id version bytes signature } withheld { restricted reviewOverdue notDisclosable } associateLinks { owner id byForce { force children asOf } complete } } }',
);

/**
 * Alerts' cross-match: which of the member's subjects match the keys strongly, as references and
 * counts only (all episodes, and those reported within the repeat threshold's days).
 */
export const PEER_HOLDERS = operation(
  'mcx.holders/1',
  'query McxPeerHolders($keys: [McxPeerKeyInput!]!, $withinDays: Int!) { peerHolders(keys: $keys, withinDays: $withinDays) { matches { subjectRef episodes recentEpisodes } } }',
);

/** A signed alert message for the member's inbox, stored once by its id. */
export const PEER_ALERT = operation(
  'mcx.alert/1',
  'mutation McxPeerAlert($alert: McxPeerAlertInput!) { peerAlert(alert: $alert) { id firstDelivery } }',
);

/**
 * The record locator: the member's signed membership filter over the linkage keys it holds, or,
 * when `known` is the version it serves now, only that it is unchanged (an If-None-Match); either
 * way with the owner's signed statement of when it last found that version current. With
 * `waitMs`, an unchanged filter's answer is held until it changes or that long (a long poll).
 * Version 2 added `waitMs`; a member offering only mcx.filter/1 is treated as serving no filter.
 */
export const PEER_FILTER = operation(
  'mcx.filter/2',
  'query McxPeerFilter($known: Float, $waitMs: Int) { peerFilter(known: $known, waitMs: $waitMs) { version notModified jws bits current } }',
);

/** Every operation this version of the node serves. */
export const PEER_OPERATIONS: readonly PeerOperation[] = [
  PEER_HISTORY,
  PEER_ASSOCIATE_LINKS,
  PEER_LOCATIONS,
  PEER_POINTERS,
  PEER_HOLDERS,
  PEER_ALERT,
  PEER_FILTER,
];

/** The allow-listed operation with this hash, or undefined. */
export function operationByHash(hash: string): PeerOperation | undefined {
  return PEER_OPERATIONS.find((op) => op.hash === hash);
}
