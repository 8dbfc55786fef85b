// @mcx/federation: how a node talks to its peer nodes. The transport: the fan-out client POSTs
// one request to each member in parallel, bounded in time and size, with one circuit breaker per
// member. The protocol: the allow-listed operations, the endpoint, node-token binding, the wire
// shapes of every answer, member statuses and the protocol's codes. What a node does with an
// answer (policy, audit, GraphQL) is the node's.

export { createFanOut } from './fanout.js';
export type { CallOptions, FanOut, FanOutOptions } from './fanout.js';
export type { PeerRequest, PeerResult, PeerStatus } from './peer-result.js';
export { PEER_PATH, REFUSAL_HEADER, peerAudience, requestHash, toWireKey, type WireKey } from './protocol.js';
export {
  PEER_ALERT,
  PEER_ASSOCIATE_LINKS,
  PEER_FILTER,
  PEER_HISTORY,
  PEER_HOLDERS,
  PEER_LOCATIONS,
  PEER_OPERATIONS,
  PEER_POINTERS,
  operationByHash,
  type PeerOperation,
} from './operations.js';
export {
  AssociateLinkCountsWire,
  LinkCountWire,
  PeerHistoryAnswer,
  PeerLinksAnswer,
  PeerLocationsAnswer,
  PeerMatchWire,
  PeerPointersAnswer,
  SignedRecordWire,
  WithheldCountsWire,
  type AssociateLinkCounts,
  type LinkCount,
  type PeerMatch,
  type WithheldCounts,
} from './wire.js';
export {
  FILTER_CURRENT_TYP,
  FILTER_FALSE_POSITIVE_RATE,
  FILTER_TYP,
  FilterRefusal,
  MembershipFilter,
  PeerFilterAnswer,
  filterDigest,
  filterItem,
  filterSize,
  signFilter,
  signFilterCurrent,
  verifyFilter,
  verifyFilterCurrent,
  type FilterCheck,
  type FilterPayload,
  type SignedFilter,
  type VerifiedFilter,
} from './filter-wire.js';
export { GEO_GRID, MAX_GEO_CELLS, geoCell, geoCellsIn } from './geo-cells.js';
export {
  ALERT_TYP,
  AlertMessageWire,
  MAX_HOLDER_EPISODES,
  PeerAlertAnswer,
  PeerHoldersAnswer,
  PeerHoldersShape,
  type AlertMessage,
} from './alert-wire.js';
export {
  completeness,
  fromPeerStatus,
  worse,
  type Completeness,
  type DroppedRecord,
  type MemberResult,
  type MemberStatus,
} from './member-status.js';
export {
  ActRefusal,
  DropReason,
  FanOutReason,
  FederationErrorCode,
  MemberReason,
  PeerRefusal,
  httpStatusReason,
  isFederationError,
  HttpStatusReason,
} from './federation-errors.js';
