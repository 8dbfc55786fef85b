import { describe, expect, it } from 'vitest';

import { keyResolverFromKeys } from './key-resolver.js';
import { generateSigningKey, toPublicKey } from './keys.js';
import { signReceipt } from './receipt.js';
import { receiptsDigest, signReceiptsSeal, verifyReceiptsSeal, type ReceiptsSeal } from './receipts-seal.js';

const holder = generateSigningKey('audit-checkpoint');
const resolve = keyResolverFromKeys([toPublicKey(holder)]);
const digest = receiptsDigest();
digest.add('{"type":"header"}');
const seal: ReceiptsSeal = { holder: 'WMP', from: 'GMP', exportedAt: '2026-11-22T10:00:00.000Z', receipts: 0, digest: digest.digest() };

describe("a receipts file's seal", () => {
  it('round-trips, and the digest is of the lines with their newlines', () => {
    expect(verifyReceiptsSeal(signReceiptsSeal(seal, holder), resolve)).toEqual({ seal, kid: holder.kid });
    const again = receiptsDigest();
    again.add('{"type":"header"}');
    expect(again.digest()).toBe(seal.digest);
    const joined = receiptsDigest();
    joined.add('{"type":"header"}\n');
    expect(joined.digest()).not.toBe(seal.digest);
  });

  it('refuses a changed count, a receipt passed off as a seal, an unknown key and a key of another job', () => {
    const [h, , s] = signReceiptsSeal(seal, holder).split('.');
    const more = Buffer.from(JSON.stringify({ ...seal, receipts: 1 })).toString('base64url');
    expect(() => verifyReceiptsSeal(`${h}.${more}.${s}`, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' }));
    const receipt = signReceipt(
      { node: 'GMP', to: 'WMP', jti: 'j', callerEntry: 'WMP:1', entry: { id: 'GMP:1', hash: 'ab' }, checkpoint: null, at: seal.exportedAt },
      holder,
    );
    expect(() => verifyReceiptsSeal(receipt, resolve)).toThrow(expect.objectContaining({ code: 'RECEIPT_WRONG_TYP' }));
    const other = generateSigningKey('audit-checkpoint');
    expect(() => verifyReceiptsSeal(signReceiptsSeal(seal, other), resolve)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_UNKNOWN_KEY' }),
    );
    expect(() => signReceiptsSeal(seal, generateSigningKey('record') as never)).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_FOR_JOB' }),
    );
    expect(() => signReceiptsSeal({ ...seal, receipts: -1 }, holder)).toThrow(expect.objectContaining({ code: 'RECEIPT_MALFORMED' }));
  });
});
