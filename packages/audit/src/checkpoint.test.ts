import { describe, expect, it } from 'vitest';

import { toPublicKey, verifyCheckpoint } from '@mcx/signing';

import { GENESIS_HASH } from './chain.js';
import { makeCheckpoint } from './checkpoint.js';
import { fixtureLog, NODE } from './fixtures/audit-log.js';
import { KEYS } from './fixtures/fixture-keys.js';
import { thrownCode } from './fixtures/thrown-code.js';

const AT = '2025-03-03T09:11:59.999Z';
const EXPECTED_JWS =
  'eyJhbGciOiJFZERTQSIsImtpZCI6InV2aHVwbDVCdDN6WG9xV1N5Ykx3aldQVThNZVEwSW8yLTZHUTRsQldEbnciLCJ0eXAiOiJtY3gtY2hlY2twb2ludCtqd3MifQ' +
  '.eyJhdCI6IjIwMjUtMDMtMDNUMDk6MTE6NTkuOTk5WiIsImhlYWRIYXNoIjoiYzhlMzhkZGY1OGE4MTdiNmQyNTA0NjI5MTU4MmY2ZDY4MDljMzhjMDIwZGE4YmJmODBhNzI2OWZlNjk2NDU5NSIsIm5vZGUiOiJXTVAiLCJzaXplIjoxMn0' +
  '.NU6DTXxnBbRaHFXKcQqYgxOJbsfdprqvXzBUzWs2W_ATXpgS6N9125jD3IP_GQ3O99__PYSOiHrmRZd7yHAWAQ';

describe('checkpoints', () => {
  it('signs { node, size: seq, headHash: hash, at } as an exact JWS that verifies', () => {
    const head = fixtureLog(12, []).rows[11];
    if (head === undefined) throw new Error('fixture log too short');
    const jws = makeCheckpoint(NODE, head, AT, KEYS.wmpAudit);
    expect(jws).toBe(EXPECTED_JWS);
    expect(verifyCheckpoint(jws, toPublicKey(KEYS.wmpAudit))).toEqual({ node: NODE, size: 12, headHash: head.hash, at: AT });
  });

  it('checkpoints the empty log at the genesis hash, and refuses a malformed head', () => {
    const jws = makeCheckpoint(NODE, { seq: 0, hash: GENESIS_HASH }, AT, KEYS.wmpAudit);
    expect(verifyCheckpoint(jws, toPublicKey(KEYS.wmpAudit)).size).toBe(0);
    expect(thrownCode(() => makeCheckpoint(NODE, { seq: 3, hash: 'sha256:abc' }, AT, KEYS.wmpAudit))).toBe('CHAIN_HEAD_INVALID');
    expect(thrownCode(() => makeCheckpoint(NODE, { seq: 1.5, hash: GENESIS_HASH }, AT, KEYS.wmpAudit))).toBe('CHAIN_HEAD_INVALID');
    expect(thrownCode(() => makeCheckpoint(NODE, { seq: 3, hash: GENESIS_HASH }, 'now', KEYS.wmpAudit))).toBe('CHECKPOINT_MALFORMED');
  });
});
