import { describe, expect, it } from 'vitest';

import { signCheckpoint } from './checkpoint.js';
import { keyResolverFromKeys } from './key-resolver.js';
import { generateSigningKey, toPublicKey } from './keys.js';
import { signReceipt, signReceiptAsync, verifyReceipt, verifyReceiptAsync, type DisclosureReceipt } from './receipt.js';

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

  it('signs and verifies the same on the thread pool, and refuses there what it refuses here', async () => {
    const jws = signReceipt(receipt, audit);
    expect(await signReceiptAsync(receipt, audit)).toBe(jws);
    expect(await verifyReceiptAsync(jws, resolve)).toEqual({ receipt, kid: audit.kid });
    const [h, , s] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...receipt, callerEntry: 'WMP:42' })).toString('base64url');
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (err: { code?: string }) => err.code,
      );
    expect(await code(verifyReceiptAsync(`${h}.${forged}.${s}`, resolve))).toBe('RECEIPT_BAD_SIGNATURE');
    expect(await code(verifyReceiptAsync(checkpoint, resolve))).toBe('RECEIPT_WRONG_TYP');
    expect(await code(signReceiptAsync({ ...receipt, extra: 1 } as never, audit))).toBe('RECEIPT_MALFORMED');
    // A key that stops resolving while the signature is checked (revoked meanwhile) is refused.
    let lookups = 0;
    const revoking: typeof resolve = (kid) => (++lookups > 1 ? { found: false, reason: 'REVOKED_KEY' } : resolve(kid));
    expect(await code(verifyReceiptAsync(jws, revoking))).toBe('RECEIPT_REVOKED_KEY');
  });

  it('refuses a receipt with extra or missing fields', () => {
    expect(() => signReceipt({ ...receipt, extra: 1 } as never, audit)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
    const { jti: _jti, ...missing } = receipt;
    expect(() => signReceipt(missing as never, audit)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });
});
