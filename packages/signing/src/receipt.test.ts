import { describe, expect, it } from 'vitest';

import { canonicalJson } from './canonical-json.js';
import { signCheckpoint } from './checkpoint.js';
import { craftJws } from './fixtures/test-helpers.js';
import { keyResolverFromKeys } from './key-resolver.js';
import { generateSigningKey, toPublicKey } from './keys.js';
import { RECEIPT_TYP, signReceipt, verifyReceipt, type DisclosureReceipt } from './receipt.js';

const audit = generateSigningKey('audit-checkpoint');
const resolve = keyResolverFromKeys([toPublicKey(audit)]);
const checkpoint = signCheckpoint({ node: 'GMP', size: 10, headHash: 'ab'.repeat(32), at: '2026-11-22T10:00:00.000Z' }, audit);
const receipt: DisclosureReceipt = {
  node: 'GMP',
  to: 'WMP',
  jti: 'j-1',
  callerEntry: 'WMP:41',
  entry: { id: 'GMP:11', hash: 'cd'.repeat(32) },
  checkpoint,
  at: '2026-11-22T10:00:01.000Z',
};

describe('disclosure receipts', () => {
  it('round-trips', () => {
    expect(verifyReceipt(signReceipt(receipt, audit), resolve)).toEqual({ receipt, kid: audit.kid });
  });

  it('refuses a tampered receipt, a checkpoint passed off as one, an unknown key and a key of another job', () => {
    const jws = signReceipt(receipt, audit);
    const [h, p, s] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...receipt, callerEntry: 'WMP:42' })).toString('base64url');
    expect(() => verifyReceipt(`${h}.${forged}.${s}`, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' }));
    expect(() => verifyReceipt(checkpoint, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_WRONG_TYP' }));
    expect(() => verifyReceipt(jws, keyResolverFromKeys([toPublicKey(generateSigningKey('audit-checkpoint'))]))).toThrow(
      expect.objectContaining({ code: 'RECEIPT_UNKNOWN_KEY' }),
    );
    const record = generateSigningKey('record');
    expect(() => signReceipt(receipt, record as never)).toThrow(expect.objectContaining({ code: 'KEY_NOT_FOR_JOB' }));
    expect(() => verifyReceipt(`${p}`, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });

  it('refuses a receipt with extra or missing fields', () => {
    expect(() => signReceipt({ ...receipt, extra: 1 } as never, audit)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    const { jti: _jti, ...missing } = receipt;
    expect(() => signReceipt(missing as never, audit)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });

  it('refuses a time not written as nodes write one (ISO 8601 in UTC), signed or verified', () => {
    for (const at of ['later', 'Mon Mar 03 2025 09:10:00 GMT+0000 (\u001b[2K ok)', '2026-11-22 10:00:01', '2026-11-22T11:00:01+01:00']) {
      expect(() => signReceipt({ ...receipt, at }, audit)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
      // Signed all the same, by a node bent on it: refused where it is read.
      const jws = craftJws({ alg: 'EdDSA', kid: audit.kid, typ: RECEIPT_TYP }, canonicalJson({ ...receipt, at }), audit.privateKey);
      expect(() => verifyReceipt(jws, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    }
    expect(verifyReceipt(signReceipt({ ...receipt, at: '2026-11-22T10:00:01Z' }, audit), resolve).receipt.at).toBe('2026-11-22T10:00:01Z');
  });
});
