import { describe, expect, it } from 'vitest';

import { baseManifest, KEYS, NOW } from './fixtures/test-federation.js';
import { craftJws, thrownCode } from './fixtures/test-helpers.js';
import { toPublicKey } from './keys.js';
import { addKey, renewManifest, setKeyStatus } from './manifest-edit.js';
import { InMemoryManifestStore, TrustManifestHolder, type ManifestStore } from './manifest-holder.js';
import { signManifest } from './manifest-signature.js';
import type { TrustManifest } from './manifest.js';
import { signRecord, verifyRecord } from './record-signature.js';

const RECORD = { id: 'a1b2', owner: 'WMP', version: 1 };

function makeHolder(store: ManifestStore = new InMemoryManifestStore(), clock = { now: NOW }) {
  return new TrustManifestHolder({ operatorKey: toPublicKey(KEYS.operator), store, now: () => clock.now });
}

const sign = (m: TrustManifest) => signManifest(m, KEYS.operator);

describe('TrustManifestHolder', () => {
  it('refuses rollback across a restart over the same store', async () => {
    const store = new InMemoryManifestStore();
    const v7 = baseManifest();
    const v8 = renewManifest(v7, { validDays: 30, now: NOW });
    await makeHolder(store).accept(sign(v8));
    expect(await store.highestVersionSeen()).toBe(8);

    const restarted = makeHolder(store);
    await expect(restarted.accept(sign(v7))).rejects.toMatchObject({ code: 'MANIFEST_ROLLBACK' });
    expect(restarted.manifest).toBeNull();
    await expect(restarted.accept(sign(v8))).resolves.toMatchObject({ status: 'valid' });
    expect(restarted.manifest?.version).toBe(8);
  });

  it('keeps the stored maximum when a slower, older accept finishes last', async () => {
    const store = new InMemoryManifestStore();
    const holder = makeHolder(store);
    const v7 = baseManifest();
    const v8 = renewManifest(v7, { validDays: 30, now: NOW });
    const results = await Promise.allSettled([holder.accept(sign(v8)), holder.accept(sign(v7))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(holder.manifest?.version).toBe(8);
    expect(await store.highestVersionSeen()).toBe(8);
  });

  it('reports in-grace, then refuses to resolve keys once the grace period is over', async () => {
    const clock = { now: new Date('2025-04-01T00:00:00Z') };
    const holder = makeHolder(new InMemoryManifestStore(), clock);
    const accepted = await holder.accept(sign(baseManifest()));
    expect(accepted.status).toBe('in-grace');
    expect(holder.status()).toMatchObject({ version: 7, status: 'in-grace' });
    const { bytes, signature } = signRecord(RECORD, KEYS.wmpRecord1);
    expect(verifyRecord(bytes, signature, holder.keyResolver('record')).valid).toBe(true);

    clock.now = new Date('2025-04-08T00:00:00Z');
    expect(thrownCode(() => verifyRecord(bytes, signature, holder.keyResolver('record')))).toBe('MANIFEST_EXPIRED');
    expect(thrownCode(() => holder.status())).toBe('MANIFEST_EXPIRED');
    await expect(holder.accept(sign(baseManifest()))).rejects.toMatchObject({ code: 'MANIFEST_EXPIRED' });
  });

  it('refuses to resolve keys before any manifest is accepted, and surfaces verifyManifest refusals', async () => {
    const holder = makeHolder();
    expect(thrownCode(() => holder.keyResolver('record')('anything'))).toBe('MANIFEST_NOT_LOADED');
    const rogue = signManifest({ ...baseManifest(), operator: { kid: KEYS.rogueOperator.kid } }, KEYS.rogueOperator);
    await expect(holder.accept(rogue)).rejects.toMatchObject({ code: 'MANIFEST_WRONG_SIGNER' });
    expect(thrownCode(() => new TrustManifestHolder({ operatorKey: KEYS.wmpRecord1 as never, store: new InMemoryManifestStore() }))).toBe(
      'KEY_NOT_FOR_JOB',
    );
  });

  it('after two rotations, records signed under all three keys verify', async () => {
    let manifest = addKey(baseManifest(), 'WMP', KEYS.wmpRecord2);
    manifest = addKey(manifest, 'WMP', KEYS.wmpRecord3);
    const holder = makeHolder();
    await holder.accept(sign(manifest));
    const statuses = holder
      .member('WMP')
      ?.keys.filter((k) => k.job === 'record')
      .map((k) => k.status);
    expect(statuses).toEqual(['verify-only', 'verify-only', 'active']);
    for (const key of [KEYS.wmpRecord1, KEYS.wmpRecord2, KEYS.wmpRecord3]) {
      const { bytes, signature } = signRecord(RECORD, key);
      expect(verifyRecord(bytes, signature, holder.keyResolver('record'))).toEqual({ valid: true, kid: key.kid, payload: RECORD });
      expect(holder.ownerOfKid(key.kid)?.code).toBe('WMP');
    }
    const gmp = signRecord(RECORD, KEYS.gmpRecord);
    expect(verifyRecord(gmp.bytes, gmp.signature, holder.keyResolver('record')).valid).toBe(true);
    expect(holder.ownerOfKid(KEYS.gmpRecord.kid)?.code).toBe('GMP');
  });

  it('refuses records signed with a revoked or an unlisted key, and sees a newer manifest at once', async () => {
    const holder = makeHolder();
    const v8 = addKey(baseManifest(), 'WMP', KEYS.wmpRecord2);
    await holder.accept(sign(v8));
    const resolve = holder.keyResolver('record');
    const old = signRecord(RECORD, KEYS.wmpRecord1);
    expect(verifyRecord(old.bytes, old.signature, resolve).valid).toBe(true);

    await holder.accept(sign(setKeyStatus(v8, KEYS.wmpRecord1.kid, 'revoked')));
    expect(verifyRecord(old.bytes, old.signature, resolve)).toEqual({ valid: false, reason: 'REVOKED_KEY' });
    const current = signRecord(RECORD, KEYS.wmpRecord2);
    expect(verifyRecord(current.bytes, current.signature, resolve).valid).toBe(true);

    const stranger = signRecord(RECORD, KEYS.stranger);
    expect(verifyRecord(stranger.bytes, stranger.signature, resolve)).toEqual({ valid: false, reason: 'UNKNOWN_KEY' });
    expect(holder.ownerOfKid(KEYS.stranger.kid)).toBeUndefined();
  });

  it('refuses a key of another job: a peer-token key signing a record', async () => {
    const holder = makeHolder();
    await holder.accept(sign(baseManifest()));
    const { bytes } = signRecord(RECORD, KEYS.wmpRecord1);
    const peer = KEYS.wmpPeerToken;
    const asRecord = craftJws({ alg: 'EdDSA', kid: peer.kid, typ: 'mcx-record+jws' }, bytes, peer.privateKey, { detached: true });
    expect(verifyRecord(bytes, asRecord, holder.keyResolver('record'))).toEqual({ valid: false, reason: 'KEY_NOT_FOR_JOB' });
    const asPeer = craftJws({ alg: 'EdDSA', kid: peer.kid, typ: 'mcx-peer+jwt' }, bytes, peer.privateKey, { detached: true });
    expect(verifyRecord(bytes, asPeer, holder.keyResolver('record'))).toEqual({ valid: false, reason: 'WRONG_TYP' });
    // The peer-token resolver finds it, for the auth package's token checks.
    expect(holder.keyResolver('peer-token')(peer.kid)).toMatchObject({ found: true, job: 'peer-token' });
  });

  it('parses each public key once and shares a frozen manifest', async () => {
    const holder = makeHolder();
    await holder.accept(sign(baseManifest()));
    const first = holder.keyResolver('record')(KEYS.wmpRecord1.kid);
    await holder.accept(sign(renewManifest(baseManifest(), { validDays: 30, now: NOW })));
    const second = holder.keyResolver('record')(KEYS.wmpRecord1.kid);
    expect(first.found && second.found && first.publicKey === second.publicKey).toBe(true);
    expect(Object.isFrozen(holder.manifest?.members[0]?.keys[0])).toBe(true);
  });
});
