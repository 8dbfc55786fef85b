import type { KeyObject } from 'node:crypto';

import { McxError } from '@mcx/errors';

import type { KeyResolver } from './key-resolver.js';
import { publicKeyObjectFromJwk, type MemberKeyJob, type VerifyKey } from './keys.js';
import { manifestStatusAt, verifyManifest, type ManifestStatus, type VerifiedManifest } from './manifest-signature.js';
import type { ManifestKey, Member, TrustManifest } from './manifest.js';
import { KeyErrorCode, ManifestErrorCode } from './signing-errors.js';

/** Persists the highest manifest version ever accepted, so a restart cannot roll the manifest back. */
export interface ManifestStore {
  highestVersionSeen(): Promise<number>;
  /** Records an accepted version. Must keep the maximum: a lower `v` never lowers what is stored. */
  recordVersion(v: number): Promise<void>;
}

/** A `ManifestStore` in memory, for tests and tools; a node uses a persistent one. */
export class InMemoryManifestStore implements ManifestStore {
  #highest = 0;

  async highestVersionSeen(): Promise<number> {
    return this.#highest;
  }

  async recordVersion(v: number): Promise<void> {
    this.#highest = Math.max(this.#highest, v);
  }
}

/** Options for a `TrustManifestHolder`. */
export interface TrustManifestHolderOptions {
  /** The federation operator's public key, pinned in the node's configuration. */
  operatorKey: VerifyKey<'manifest'>;
  store: ManifestStore;
  /** The clock; tests freeze it. */
  now?: () => Date;
}

interface KeyEntry {
  member: Member;
  key: ManifestKey;
}

interface Installed {
  manifest: TrustManifest;
  byKid: Map<string, KeyEntry>;
  byCode: Map<string, Member>;
  refuseAfterMs: number;
}

/**
 * Holds the node's current trust manifest: accepts new ones through the store (refusing
 * rollback across restarts) and resolves member keys for verification.
 */
export class TrustManifestHolder {
  readonly #operatorKey: VerifyKey<'manifest'>;
  readonly #store: ManifestStore;
  readonly #now: () => Date;
  // Keyed by the JWK `x`, so a key keeps its parsed KeyObject across manifest versions.
  readonly #keyObjects = new Map<string, KeyObject>();
  #installed: Installed | null = null;

  constructor(options: TrustManifestHolderOptions) {
    if (options.operatorKey.job !== 'manifest')
      throw new McxError(KeyErrorCode.KEY_NOT_FOR_JOB, 'the pinned operator key must be a manifest key');
    this.#operatorKey = options.operatorKey;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
  }

  /** Verifies and installs a signed manifest; throws the `verifyManifest` codes. Returns `in-grace` when the caller must warn. */
  async accept(jws: string): Promise<VerifiedManifest> {
    const highestVersionSeen = await this.#store.highestVersionSeen();
    const verified = verifyManifest(jws, this.#operatorKey, { now: this.#now(), highestVersionSeen });
    await this.#store.recordVersion(verified.manifest.version);
    // Re-checked after the awaits: a concurrent accept may have installed a newer one meanwhile.
    const current = this.#installed?.manifest.version ?? 0;
    if (verified.manifest.version < current) {
      throw new McxError(
        ManifestErrorCode.MANIFEST_ROLLBACK,
        `manifest version ${verified.manifest.version} is older than version ${current} held`,
      );
    }
    this.#install(verified.manifest, verified.refuseAfter);
    return verified;
  }

  /** The installed manifest, or null before the first `accept`. */
  get manifest(): TrustManifest | null {
    return this.#installed?.manifest ?? null;
  }

  /** The installed manifest's status now; throws `MANIFEST_NOT_LOADED`, `MANIFEST_EXPIRED` or `MANIFEST_NOT_YET_VALID`. */
  status(): { version: number; status: ManifestStatus; refuseAfter: Date } {
    const { manifest } = this.#current();
    return { version: manifest.version, ...manifestStatusAt(manifest, this.#now()) };
  }

  /** The member that a kid belongs to, or undefined if the manifest does not list it. */
  ownerOfKid(kid: string): Member | undefined {
    return this.#installed?.byKid.get(kid)?.member;
  }

  /** The member with this code, or undefined. */
  member(code: string): Member | undefined {
    return this.#installed?.byCode.get(code);
  }

  /**
   * A resolver for `verifyRecord` and friends: listed, unrevoked keys of `job` (active or
   * verify-only). It reads the manifest installed at call time, and throws
   * `MANIFEST_NOT_LOADED` / `MANIFEST_EXPIRED` rather than trust a stale list.
   */
  keyResolver(job: MemberKeyJob): KeyResolver {
    return (kid) => {
      const installed = this.#current();
      const entry = installed.byKid.get(kid);
      if (entry === undefined) return { found: false, reason: 'UNKNOWN_KEY' };
      if (entry.key.status === 'revoked') return { found: false, reason: 'REVOKED_KEY' };
      if (entry.key.job !== job) return { found: false, reason: 'KEY_NOT_FOR_JOB' };
      return { found: true, kid, job: entry.key.job, publicKey: this.#keyObject(entry.key) };
    };
  }

  #current(): Installed {
    const installed = this.#installed;
    if (installed === null) throw new McxError(ManifestErrorCode.MANIFEST_NOT_LOADED, 'no trust manifest has been accepted');
    if (this.#now().getTime() > installed.refuseAfterMs) {
      throw new McxError(
        ManifestErrorCode.MANIFEST_EXPIRED,
        `trust manifest version ${installed.manifest.version} is past its grace period`,
      );
    }
    return installed;
  }

  #keyObject(key: ManifestKey): KeyObject {
    let keyObject = this.#keyObjects.get(key.jwk.x);
    if (keyObject === undefined) {
      keyObject = publicKeyObjectFromJwk(key.jwk);
      this.#keyObjects.set(key.jwk.x, keyObject);
    }
    return keyObject;
  }

  #install(manifest: TrustManifest, refuseAfter: Date): void {
    const byKid = new Map<string, KeyEntry>();
    const byCode = new Map<string, Member>();
    for (const member of manifest.members) {
      byCode.set(member.code, member);
      for (const key of member.keys) byKid.set(key.kid, { member, key });
    }
    this.#installed = { manifest: deepFreeze(manifest), byKid, byCode, refuseAfterMs: refuseAfter.getTime() };
  }
}

// The installed manifest is shared with every caller, so nobody may change it in place.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
