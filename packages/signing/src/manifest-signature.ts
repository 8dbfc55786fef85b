import { McxError } from '@mcx/errors';

import { canonicalJson } from './canonical-json.js';
import { checkHeader, decodeBase64url, decodeJws, signCompact, verifyInput } from './jws.js';
import { JOB_TYP, type SigningKey, type VerifyKey } from './keys.js';
import { assertManifest, manifestProblems, type TrustManifest } from './manifest.js';
import { KeyErrorCode, ManifestErrorCode } from './signing-errors.js';

/** `valid`, or `in-grace`: past `validUntil` but inside the grace period, so the caller must warn loudly. */
export type ManifestStatus = 'valid' | 'in-grace';

/** A verified manifest with its status. */
export interface VerifiedManifest {
  manifest: TrustManifest;
  status: ManifestStatus;
  /** When the manifest stops being accepted at all (`validUntil` + grace). */
  refuseAfter: Date;
}

/** What `verifyManifest` checks against besides the signature. */
export interface ManifestCheckOptions {
  now: Date;
  /** The highest manifest version this node has ever accepted (0 if none). */
  highestVersionSeen: number;
}

/**
 * Signs a trust manifest with the operator key as a compact JWS (`typ` `mcx-manifest+jws`).
 *
 * @example
 * const operatorKey = await loadSigningKey('operator.pem', 'manifest');
 * const jws = signManifest(addMember(manifest, wmp), operatorKey);
 */
export function signManifest(manifest: TrustManifest, operatorKey: SigningKey<'manifest'>): string {
  if (operatorKey.job !== 'manifest') throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, `a ${operatorKey.job} key cannot sign manifests`);
  assertManifest(manifest);
  if (manifest.operator.kid !== operatorKey.kid) {
    throw new McxError(ManifestErrorCode.MANIFEST_WRONG_SIGNER, 'manifest names a different operator key than the one signing it');
  }
  return signCompact(JOB_TYP.manifest, canonicalJson(manifest), operatorKey);
}

function fail(code: ManifestErrorCode, message: string): never {
  throw new McxError(code, message);
}

/**
 * Verifies a signed manifest against the pinned operator key, refusing unsigned, foreign,
 * rolled-back, expired and not-yet-valid manifests with an `McxError` code.
 *
 * @example
 * const { manifest, status } = verifyManifest(jws, pinnedOperatorKey, {
 *   now: new Date(),
 *   highestVersionSeen: await store.highestVersionSeen(),
 * });
 * if (status === 'in-grace') logger.error('trust manifest has expired; renew it');
 */
export function verifyManifest(jws: string, pinnedOperatorKey: VerifyKey<'manifest'>, options: ManifestCheckOptions): VerifiedManifest {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3) fail(ManifestErrorCode.MANIFEST_MALFORMED, 'not a compact JWS');
  if (parts[2] === '') fail(ManifestErrorCode.MANIFEST_UNSIGNED, 'manifest has no signature');
  const decoded = decodeJws(jws);
  if (decoded === null) fail(ManifestErrorCode.MANIFEST_MALFORMED, 'not a compact JWS');
  if (decoded.header.alg === 'none') fail(ManifestErrorCode.MANIFEST_UNSIGNED, 'manifest uses alg "none"');
  const checked = checkHeader(decoded.header, JOB_TYP.manifest);
  if ('problem' in checked) {
    if (checked.problem === 'WRONG_ALG')
      fail(ManifestErrorCode.MANIFEST_WRONG_SIGNER, `manifest alg ${String(decoded.header.alg)} is not EdDSA`);
    fail(ManifestErrorCode.MANIFEST_MALFORMED, `manifest header refused: ${checked.problem}`);
  }
  if (checked.kid !== pinnedOperatorKey.kid)
    fail(ManifestErrorCode.MANIFEST_WRONG_SIGNER, 'manifest is signed by a key other than the pinned operator key');
  if (!verifyInput(decoded, decoded.encodedPayload, pinnedOperatorKey.publicKey)) {
    fail(ManifestErrorCode.MANIFEST_WRONG_SIGNER, 'manifest signature does not verify under the pinned operator key');
  }

  let manifest: unknown;
  try {
    manifest = JSON.parse((decodeBase64url(decoded.encodedPayload) ?? Buffer.alloc(0)).toString('utf8'));
  } catch (cause) {
    throw new McxError(ManifestErrorCode.MANIFEST_MALFORMED, 'manifest payload is not JSON', { cause });
  }
  const problems = manifestProblems(manifest);
  if (problems.length > 0) fail(ManifestErrorCode.MANIFEST_MALFORMED, `trust manifest is malformed: ${problems.join('; ')}`);
  const valid = manifest as TrustManifest;
  if (valid.operator.kid !== pinnedOperatorKey.kid) fail(ManifestErrorCode.MANIFEST_MALFORMED, 'manifest names a different operator key');

  if (valid.version < options.highestVersionSeen) {
    fail(
      ManifestErrorCode.MANIFEST_ROLLBACK,
      `manifest version ${valid.version} is older than version ${options.highestVersionSeen} already seen`,
    );
  }
  return { manifest: valid, ...manifestStatusAt(valid, options.now) };
}

/** The status of an accepted manifest at `now`; throws `MANIFEST_NOT_YET_VALID` or `MANIFEST_EXPIRED`. */
export function manifestStatusAt(manifest: TrustManifest, now: Date): { status: ManifestStatus; refuseAfter: Date } {
  const at = now.getTime();
  const validUntil = Date.parse(manifest.validUntil);
  const refuseAfter = new Date(validUntil + manifest.graceSeconds * 1000);
  if (at < Date.parse(manifest.validFrom))
    fail(ManifestErrorCode.MANIFEST_NOT_YET_VALID, `manifest is valid only from ${manifest.validFrom}`);
  if (at > refuseAfter.getTime())
    fail(ManifestErrorCode.MANIFEST_EXPIRED, `manifest expired at ${manifest.validUntil} and its grace ended`);
  return { status: at > validUntil ? 'in-grace' : 'valid', refuseAfter };
}
