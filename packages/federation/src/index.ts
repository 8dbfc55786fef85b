// @mcx/federation: how a node talks to its peer nodes. The fan-out client POSTs one request to
// each member in parallel, bounded in time and size, with one circuit breaker per member.

export { createFanOut } from './fanout.js';
export type { CallOptions, FanOut, FanOutOptions, PeerRequest, PeerResult, PeerStatus } from './fanout.js';
