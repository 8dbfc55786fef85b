import { McxError } from '@mcx/errors';

import { jwkThumbprint, type Ed25519PublicJwk, type MemberKeyJob } from './keys.js';
import { assertManifest, type KeyStatus, type Member, type TrustManifest } from './manifest.js';
import { ManifestEditErrorCode } from './signing-errors.js';

// Editing helpers for the operator's CLI. Each returns a new, validated manifest with
// `version` bumped, and never changes its input.

const DAY_MS = 86_400_000;

/** Options for a new manifest. */
export interface InitManifestOptions {
  /** The kid of the operator key that will sign it. */
  operatorKid: string;
  validDays: number;
  graceDays: number;
  now?: Date;
}

/** A key to add to a member: its job and public JWK (a `VerifyKey` fits). */
export interface NewMemberKey {
  job: MemberKeyJob;
  jwk: Ed25519PublicJwk;
  notAfter?: string;
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

function edit(manifest: TrustManifest, change: (draft: TrustManifest) => void): TrustManifest {
  const draft = structuredClone(manifest);
  change(draft);
  draft.version = manifest.version + 1;
  assertManifest(draft);
  return draft;
}

function memberOf(draft: TrustManifest, code: string): Member {
  const member = draft.members.find((m) => m.code === code);
  if (member === undefined) throw new McxError(ManifestEditErrorCode.MEMBER_NOT_FOUND, `no member ${code}`);
  return member;
}

/** Starts an empty manifest at version 1, valid from now for `validDays`. */
export function initManifest(options: InitManifestOptions): TrustManifest {
  const now = (options.now ?? new Date()).getTime();
  const manifest: TrustManifest = {
    version: 1,
    issuedAt: isoSeconds(now),
    validFrom: isoSeconds(now),
    validUntil: isoSeconds(now + options.validDays * DAY_MS),
    graceSeconds: Math.round(options.graceDays * 86_400),
    operator: { kid: options.operatorKid },
    members: [],
  };
  assertManifest(manifest);
  return manifest;
}

/** Adds a member; throws `MEMBER_EXISTS` if its code is taken. */
export function addMember(manifest: TrustManifest, member: Member): TrustManifest {
  return edit(manifest, (draft) => {
    if (draft.members.some((m) => m.code === member.code))
      throw new McxError(ManifestEditErrorCode.MEMBER_EXISTS, `member ${member.code} exists`);
    draft.members.push(structuredClone(member));
  });
}

/**
 * Adds a key to a member as `active` (rotation): the member's previously active keys for the
 * same job become `verify-only`, so what they signed still verifies.
 */
export function addKey(manifest: TrustManifest, code: string, key: NewMemberKey): TrustManifest {
  return edit(manifest, (draft) => {
    const member = memberOf(draft, code);
    const kid = jwkThumbprint(key.jwk);
    if (draft.members.some((m) => m.keys.some((k) => k.kid === kid)))
      throw new McxError(ManifestEditErrorCode.KEY_EXISTS, `key ${kid} is already listed`);
    for (const old of member.keys) {
      if (old.job === key.job && old.status === 'active') old.status = 'verify-only';
    }
    const jwk: Ed25519PublicJwk = { kty: key.jwk.kty, crv: key.jwk.crv, x: key.jwk.x };
    member.keys.push({ kid, job: key.job, jwk, status: 'active', ...(key.notAfter ? { notAfter: key.notAfter } : {}) });
  });
}

/** Sets a key's status (`verify-only` after rotation, `revoked` on compromise); a revoked key stays revoked. */
export function setKeyStatus(manifest: TrustManifest, kid: string, status: KeyStatus): TrustManifest {
  return edit(manifest, (draft) => {
    const key = draft.members.flatMap((m) => m.keys).find((k) => k.kid === kid);
    if (key === undefined) throw new McxError(ManifestEditErrorCode.KEY_NOT_FOUND, `no key ${kid}`);
    if (key.status === 'revoked' && status !== 'revoked')
      throw new McxError(ManifestEditErrorCode.KEY_REVOKED, `key ${kid} is revoked for good`);
    key.status = status;
  });
}

/** Extends validity: valid from now for `validDays` more, issued now. */
export function renewManifest(manifest: TrustManifest, options: { validDays: number; now?: Date }): TrustManifest {
  const now = (options.now ?? new Date()).getTime();
  return edit(manifest, (draft) => {
    draft.issuedAt = isoSeconds(now);
    draft.validFrom = isoSeconds(now);
    draft.validUntil = isoSeconds(now + options.validDays * DAY_MS);
  });
}
