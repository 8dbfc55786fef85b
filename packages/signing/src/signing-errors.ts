// Node token codes are in node-token-errors.ts; these are the other codes @mcx/signing throws.

/** Loading keys, and signing with a key of the wrong job. */
export const KeyErrorCode = {
  KEY_INVALID: 'KEY_INVALID',
  KEY_UNREADABLE: 'KEY_UNREADABLE',
  KEY_NOT_FOR_JOB: 'KEY_NOT_FOR_JOB',
} as const;
export type KeyErrorCode = (typeof KeyErrorCode)[keyof typeof KeyErrorCode];

/** A value that canonical JSON (RFC 8785) cannot represent. */
export const CanonicalJsonErrorCode = {
  NOT_JSON: 'NOT_JSON',
} as const;
export type CanonicalJsonErrorCode = (typeof CanonicalJsonErrorCode)[keyof typeof CanonicalJsonErrorCode];

/** Verifying, holding and signing the trust manifest. A receiver answers these as an outage (no usable manifest). */
export const ManifestErrorCode = {
  MANIFEST_MALFORMED: 'MANIFEST_MALFORMED',
  MANIFEST_UNSIGNED: 'MANIFEST_UNSIGNED',
  MANIFEST_WRONG_SIGNER: 'MANIFEST_WRONG_SIGNER',
  MANIFEST_ROLLBACK: 'MANIFEST_ROLLBACK',
  MANIFEST_NOT_YET_VALID: 'MANIFEST_NOT_YET_VALID',
  MANIFEST_EXPIRED: 'MANIFEST_EXPIRED',
  MANIFEST_NOT_LOADED: 'MANIFEST_NOT_LOADED',
} as const;
export type ManifestErrorCode = (typeof ManifestErrorCode)[keyof typeof ManifestErrorCode];

/** Editing a manifest draft (`addMember`, `addKey`, `setKeyStatus`). */
export const ManifestEditErrorCode = {
  MEMBER_NOT_FOUND: 'MEMBER_NOT_FOUND',
  MEMBER_EXISTS: 'MEMBER_EXISTS',
  KEY_EXISTS: 'KEY_EXISTS',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  KEY_REVOKED: 'KEY_REVOKED',
} as const;
export type ManifestEditErrorCode = (typeof ManifestEditErrorCode)[keyof typeof ManifestEditErrorCode];

/** Signing and verifying audit checkpoints. */
export const CheckpointErrorCode = {
  CHECKPOINT_MALFORMED: 'CHECKPOINT_MALFORMED',
  CHECKPOINT_WRONG_ALG: 'CHECKPOINT_WRONG_ALG',
  CHECKPOINT_WRONG_TYP: 'CHECKPOINT_WRONG_TYP',
  CHECKPOINT_UNKNOWN_KEY: 'CHECKPOINT_UNKNOWN_KEY',
  CHECKPOINT_REVOKED_KEY: 'CHECKPOINT_REVOKED_KEY',
  CHECKPOINT_KEY_NOT_FOR_JOB: 'CHECKPOINT_KEY_NOT_FOR_JOB',
  CHECKPOINT_BAD_SIGNATURE: 'CHECKPOINT_BAD_SIGNATURE',
  CHECKPOINT_NOT_CANONICAL: 'CHECKPOINT_NOT_CANONICAL',
} as const;
export type CheckpointErrorCode = (typeof CheckpointErrorCode)[keyof typeof CheckpointErrorCode];

/** Signing and verifying disclosure receipts. */
export const ReceiptErrorCode = {
  RECEIPT_MALFORMED: 'RECEIPT_MALFORMED',
  RECEIPT_WRONG_ALG: 'RECEIPT_WRONG_ALG',
  RECEIPT_WRONG_TYP: 'RECEIPT_WRONG_TYP',
  RECEIPT_UNKNOWN_KEY: 'RECEIPT_UNKNOWN_KEY',
  RECEIPT_REVOKED_KEY: 'RECEIPT_REVOKED_KEY',
  RECEIPT_KEY_NOT_FOR_JOB: 'RECEIPT_KEY_NOT_FOR_JOB',
  RECEIPT_BAD_SIGNATURE: 'RECEIPT_BAD_SIGNATURE',
} as const;
export type ReceiptErrorCode = (typeof ReceiptErrorCode)[keyof typeof ReceiptErrorCode];
