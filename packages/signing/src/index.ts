// @mcx/signing: keys by job, detached JWS over RFC 8785 canonical records, the signed trust
// manifest, and audit checkpoints. Pure library: no I/O beyond reading key files.

export { NodeTokenErrorCode } from './node-token-errors.js';
export {
  KeyErrorCode,
  CanonicalJsonErrorCode,
  ManifestErrorCode,
  ManifestEditErrorCode,
  CheckpointErrorCode,
  ReceiptErrorCode,
} from './signing-errors.js';

export {
  KEY_JOBS,
  MEMBER_KEY_JOBS,
  JOB_TYP,
  jwkThumbprint,
  generateSigningKey,
  signingKeyFromPem,
  loadSigningKey,
  verifyKeyFromPem,
  loadVerifyKey,
  verifyKeyFromJwk,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  toPublicKey,
} from './keys.js';
export type { KeyJob, MemberKeyJob, Ed25519PublicJwk, VerifyKey, SigningKey } from './keys.js';

export { canonicalJson, parseCanonicalJson } from './canonical-json.js';
export type { JsonValue, JsonObject } from './canonical-json.js';

export { keyResolverFromKeys } from './key-resolver.js';
export type { KeyResolver, KeyLookup, KeyLookupFailure } from './key-resolver.js';

export { signRecord, verifyRecord } from './record-signature.js';
export type { SignedRecord, RecordRejection, RecordVerification } from './record-signature.js';

export { MEMBER_KINDS, KEY_STATUSES, manifestProblems, manifestPublicationProblems, assertManifest, shownEndpoint } from './manifest.js';
export type { TrustManifest, Member, MemberKind, ManifestKey, KeyStatus } from './manifest.js';

export { signManifest, verifyManifest } from './manifest-signature.js';
export type { ManifestStatus, VerifiedManifest, ManifestCheckOptions } from './manifest-signature.js';

export { InMemoryManifestStore, TrustManifestHolder } from './manifest-holder.js';
export type { ManifestStore, TrustManifestHolderOptions } from './manifest-holder.js';

export { initManifest, addMember, addKey, setKeyStatus, renewManifest } from './manifest-edit.js';
export type { InitManifestOptions, NewMemberKey } from './manifest-edit.js';

export { signCheckpoint, verifyCheckpoint } from './checkpoint.js';
export type { Checkpoint } from './checkpoint.js';

export { NODE_TOKEN_MAX_TTL_SEC, signNodeToken, verifyNodeToken } from './node-token.js';
export type { NodeTokenInput, VerifiedNodeToken, VerifyNodeTokenOptions } from './node-token.js';

export { RECEIPT_TYP, signReceipt, verifyReceipt } from './receipt.js';
export { isoUtcMs } from './iso-time.js';
export type { DisclosureReceipt } from './receipt.js';
export { RECEIPTS_SEAL_TYP, receiptsDigest, signReceiptsSeal, verifyReceiptsSeal } from './receipts-seal.js';
export type { ReceiptsSeal } from './receipts-seal.js';
