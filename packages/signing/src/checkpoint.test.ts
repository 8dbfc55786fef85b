import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';

import { signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { checkpointFixture } from './fixtures/checkpoint-fixture.js';
import { KEYS } from './fixtures/test-federation.js';
import { b64u, craftJws, thrownCode } from './fixtures/test-helpers.js';
import { keyResolverFromKeys } from './key-resolver.js';
import { toPublicKey } from './keys.js';
import { verifiedDigest, wasVerified } from './verified-cache.js';

const { checkpoint, expectedJws } = checkpointFixture;
const auditKey = toPublicKey(KEYS.wmpAudit);

describe('audit checkpoints', () => {
  it('signs an exact compact JWS that verifies, here and with jose', async () => {
    const jws = signCheckpoint(checkpoint, KEYS.wmpAudit);
    expect(jws).toBe(expectedJws);
    expect(verifyCheckpoint(jws, auditKey)).toEqual(checkpoint);
    expect(verifyCheckpoint(jws, keyResolverFromKeys([auditKey]))).toEqual(checkpoint);
    const { protectedHeader } = await compactVerify(jws, KEYS.wmpAudit.publicKey);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: KEYS.wmpAudit.kid, typ: 'mcx-checkpoint+jws' });
  });

  it('signs only the four fields, and refuses malformed checkpoints and other keys', () => {
    const jws = signCheckpoint({ ...checkpoint, extra: 'dropped' } as typeof checkpoint, KEYS.wmpAudit);
    expect(jws).toBe(expectedJws);
    expect(thrownCode(() => signCheckpoint({ ...checkpoint, size: -1 }, KEYS.wmpAudit))).toBe('CHECKPOINT_MALFORMED');
    expect(thrownCode(() => signCheckpoint({ ...checkpoint, at: 'yesterday' }, KEYS.wmpAudit))).toBe('CHECKPOINT_MALFORMED');
    // A time not written as nodes write one, signed all the same: refused where it is read too (a receipt quotes it, the auditors' pages show it).
    for (const at of ['Mon Mar 03 2025 09:10:00 GMT+0000 (\u001b[2K ok)', '2025-02-30T00:00:00.000Z', '2025-03-03T10:00:00+01:00']) {
      expect(thrownCode(() => signCheckpoint({ ...checkpoint, at }, KEYS.wmpAudit))).toBe('CHECKPOINT_MALFORMED');
      const crafted = craftJws(
        { alg: 'EdDSA', kid: KEYS.wmpAudit.kid, typ: 'mcx-checkpoint+jws' },
        JSON.stringify({ at, headHash: checkpoint.headHash, node: checkpoint.node, size: checkpoint.size }),
        KEYS.wmpAudit.privateKey,
      );
      expect(thrownCode(() => verifyCheckpoint(crafted, auditKey))).toBe('CHECKPOINT_MALFORMED');
    }
    expect(thrownCode(() => signCheckpoint(checkpoint, KEYS.wmpRecord1 as never))).toBe('KEY_NOT_FOR_JOB');
  });

  it('verifies a checkpoint seen again from memory, but never a changed byte, a non-canonical one or one under a revoked key', () => {
    // Every receipt quotes its node's latest checkpoint, so the same one comes back until the next is cut.
    const mine = { ...checkpoint, size: 7001 };
    const jws = signCheckpoint(mine, KEYS.wmpAudit);
    const [h = '', p = '', s = ''] = jws.split('.');
    const digest = (payload: string) => verifiedDigest(h, Buffer.from(s, 'base64url'), payload);
    expect(wasVerified(auditKey.publicKey, digest(p))).toBe(false);
    expect(verifyCheckpoint(jws, auditKey)).toEqual(mine);
    expect(wasVerified(auditKey.publicKey, digest(p))).toBe(true);
    expect(verifyCheckpoint(jws, auditKey)).toEqual(mine);
    // The same header and signature over another payload: verified afresh, and refused every time.
    const changed = b64u(JSON.stringify({ ...mine, size: 7002 }));
    for (let i = 0; i < 2; i++)
      expect(thrownCode(() => verifyCheckpoint(`${h}.${changed}.${s}`, auditKey))).toBe('CHECKPOINT_BAD_SIGNATURE');
    expect(wasVerified(auditKey.publicKey, digest(changed))).toBe(false);
    // Signed, but not canonical: never remembered, refused again.
    const loose = craftJws(
      { alg: 'EdDSA', kid: KEYS.wmpAudit.kid, typ: 'mcx-checkpoint+jws' },
      JSON.stringify(mine),
      KEYS.wmpAudit.privateKey,
    );
    for (let i = 0; i < 2; i++) expect(thrownCode(() => verifyCheckpoint(loose, auditKey))).toBe('CHECKPOINT_NOT_CANONICAL');
    // The key's status is asked every time: revoked since, the remembered checkpoint is refused.
    const revoked: Parameters<typeof verifyCheckpoint>[1] = () => ({ found: false, reason: 'REVOKED_KEY' });
    expect(thrownCode(() => verifyCheckpoint(jws, revoked))).toBe('CHECKPOINT_REVOKED_KEY');
  });

  describe('refuses each kind of bad checkpoint with its code', () => {
    const header = { alg: 'EdDSA', kid: KEYS.wmpAudit.kid, typ: 'mcx-checkpoint+jws' };
    const body = JSON.stringify(checkpoint);
    const [h, , s] = expectedJws.split('.');
    const cases: Array<[string, Parameters<typeof verifyCheckpoint>[1], string]> = [
      ['garbage', auditKey, 'CHECKPOINT_MALFORMED'],
      [`${h}.${b64u(JSON.stringify({ ...checkpoint, size: 1043 }))}.${s}`, auditKey, 'CHECKPOINT_BAD_SIGNATURE'],
      [craftJws({ ...header, typ: 'mcx-record+jws' }, body, KEYS.wmpAudit.privateKey), auditKey, 'CHECKPOINT_WRONG_TYP'],
      [craftJws({ ...header, alg: 'none' }, body, KEYS.wmpAudit.privateKey), auditKey, 'CHECKPOINT_WRONG_ALG'],
      [expectedJws, toPublicKey(KEYS.stranger) as never, 'CHECKPOINT_UNKNOWN_KEY'],
      [craftJws(header, body, KEYS.wmpAudit.privateKey), auditKey, 'CHECKPOINT_NOT_CANONICAL'],
      [craftJws(header, '{"node":"WMP"}', KEYS.wmpAudit.privateKey), auditKey, 'CHECKPOINT_MALFORMED'],
      [
        craftJws({ ...header, kid: KEYS.wmpRecord1.kid }, body, KEYS.wmpRecord1.privateKey),
        keyResolverFromKeys([KEYS.wmpRecord1]),
        'CHECKPOINT_KEY_NOT_FOR_JOB',
      ],
    ];
    it.each(cases.map(([jws, key, code], row) => [row + 1, code, jws, key] as const))('case %i: %s', (_row, code, jws, key) => {
      expect(thrownCode(() => verifyCheckpoint(jws, key))).toBe(code);
    });
  });
});
