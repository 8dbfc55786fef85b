/**
 * Where and how a node asks a member: the endpoint's path, the refusal header, the audience a
 * node token carries and the hash that binds a token to one request.
 */
import { createHash } from 'node:crypto';

import { canonicalJson, type JsonValue } from '@mcx/signing';

/** The path of the peer endpoint on every node. */
export const PEER_PATH = '/peer/v1';

/** The header that carries a refusal's code, so a caller can report it without reading the body. */
export const REFUSAL_HEADER = 'x-mcx-refusal';

/** The audience a node token for `member`'s peer endpoint carries. */
export function peerAudience(member: string): string {
  return `mcx-peer:${member}`;
}

/**
 * Binds a node token to one request: base64url SHA-256 over the operation hash and the RFC 8785
 * canonical JSON of the variables, so a token cannot be replayed with other variables.
 */
export function requestHash(operationHash: string, variables: JsonValue): string {
  return createHash('sha256').update(operationHash).update('\n').update(canonicalJson(variables)).digest('base64url');
}

/** A linkage key as the peer operations carry it (McxPeerKeyInput). */
export interface WireKey {
  kind: string;
  strength: string;
  keyVersion: string;
  key: string;
  variant?: string;
}

/**
 * A linkage key with only the fields the wire carries, `variant` only when there is one: the
 * request hash covers the variables' exact JSON, so both ends must write a key the same way.
 */
export function toWireKey(k: WireKey): WireKey {
  return { kind: k.kind, strength: k.strength, keyVersion: k.keyVersion, key: k.key, ...(k.variant ? { variant: k.variant } : {}) };
}
