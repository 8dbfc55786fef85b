/**
 * Stable codes of the OPRF exchange with the linkage service. A node answers all of them as an
 * outage of linkage (SERVICE_UNAVAILABLE with the code as reason), never as the caller's fault.
 * Identity validation codes are `IdentityErrorCode` in identity.ts.
 */
export const LinkageErrorCode = {
  /** A linkage key is not a 32-byte ristretto255 scalar. */
  LINKAGE_KEY_INVALID: 'LINKAGE_KEY_INVALID',
  /** A blinded element sent for evaluation is not a ristretto255 point. */
  LINKAGE_BLINDED_INVALID: 'LINKAGE_BLINDED_INVALID',
  /** The service's answer cannot be unblinded (wrong count, bad points, bad JSON). */
  LINKAGE_EVALUATION_INVALID: 'LINKAGE_EVALUATION_INVALID',
  /** Network failure, timeout or 5xx. */
  LINKAGE_UNAVAILABLE: 'LINKAGE_UNAVAILABLE',
  /** HTTP 429. */
  LINKAGE_RATE_LIMITED: 'LINKAGE_RATE_LIMITED',
  /** Any other 4xx. */
  LINKAGE_REFUSED: 'LINKAGE_REFUSED',
  /** The OPRF worker thread could not start, failed, or did not answer in time (oprf-offload.ts). */
  LINKAGE_WORKER_UNAVAILABLE: 'LINKAGE_WORKER_UNAVAILABLE',
  /** The OPRF worker thread's queue is full: retry shortly. */
  LINKAGE_BUSY: 'LINKAGE_BUSY',
} as const;
/** One linkage code. */
export type LinkageErrorCode = (typeof LinkageErrorCode)[keyof typeof LinkageErrorCode];
