import type { ManifestErrorCode, NodeTokenErrorCode } from '@mcx/signing';

/** Reading and editing the linkage keys file: an operator's mistake, found at startup or by `mcx linkage`. */
export const LinkageKeysErrorCode = {
  LINKAGE_KEYS_INVALID: 'LINKAGE_KEYS_INVALID',
  LINKAGE_KEYS_UNREADABLE: 'LINKAGE_KEYS_UNREADABLE',
} as const;
/** One keys file code. */
export type LinkageKeysErrorCode = (typeof LinkageKeysErrorCode)[keyof typeof LinkageKeysErrorCode];

/** The service's own refusal codes, sent as `{ error: { code } }`: part of its HTTP contract with the nodes. */
export const LinkageServiceErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  BLINDED_INVALID: 'BLINDED_INVALID',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNKNOWN_KEY_VERSION: 'UNKNOWN_KEY_VERSION',
  NODE_TOKEN_MISSING: 'NODE_TOKEN_MISSING',
  NODE_TOKEN_REPLAYED: 'NODE_TOKEN_REPLAYED',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** The replay and rate-limit store cannot be reached. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The service is shutting down. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The OPRF worker thread's queue is full (503 with Retry-After). */
  EVALUATION_BUSY: 'EVALUATION_BUSY',
  /** The OPRF worker thread failed or did not answer in time (503). */
  EVALUATION_UNAVAILABLE: 'EVALUATION_UNAVAILABLE',
  /** The health check failed without a manifest code. */
  MANIFEST_UNUSABLE: 'MANIFEST_UNUSABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
/** One of the service's own refusal codes. */
export type LinkageServiceErrorCode = (typeof LinkageServiceErrorCode)[keyof typeof LinkageServiceErrorCode];

/** Every code an HttpError may carry: the service's own, and the signing refusals it passes on unchanged. */
export type HttpErrorCode = LinkageServiceErrorCode | NodeTokenErrorCode | ManifestErrorCode;
