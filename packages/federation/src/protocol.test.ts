import { describe, expect, it } from 'vitest';

import { completeness, fromPeerStatus, worse, type MemberStatus } from './member-status.js';
import { operationByHash, PEER_HISTORY, PEER_OPERATIONS } from './operations.js';
import { peerAudience, requestHash, toWireKey } from './protocol.js';
import { PeerHistoryAnswer, PeerLinksAnswer, SignedRecordWire } from './wire.js';

const key = { kind: 'name_dob', strength: 'strong', keyVersion: 'k1', key: 'a'.repeat(43) };

describe('the peer protocol', () => {
  it('writes a linkage key with only the wire fields, and a variant only when there is one', () => {
    expect(toWireKey({ ...key, extra: 'dropped' } as typeof key)).toStrictEqual(key);
    expect(toWireKey({ ...key, variant: '' })).toStrictEqual(key);
    expect(toWireKey({ ...key, variant: 'dob_swapped' })).toStrictEqual({ ...key, variant: 'dob_swapped' });
  });

  it('binds a request hash to the operation and the variables, not to the order of their fields', () => {
    const hash = requestHash(PEER_HISTORY.hash, { keys: [key] });
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(requestHash(PEER_HISTORY.hash, { keys: [{ key: key.key, keyVersion: 'k1', strength: 'strong', kind: 'name_dob' }] })).toBe(hash);
    expect(requestHash(PEER_HISTORY.hash, { keys: [{ ...key, keyVersion: 'k2' }] })).not.toBe(hash);
    expect(requestHash('0'.repeat(64), { keys: [key] })).not.toBe(hash);
  });

  it('finds an allow-listed operation by the hash of its document, and nothing else', () => {
    for (const op of PEER_OPERATIONS) expect(operationByHash(op.hash)).toBe(op);
    expect(operationByHash('0'.repeat(64))).toBeUndefined();
    expect(new Set(PEER_OPERATIONS.map((op) => op.name)).size).toBe(PEER_OPERATIONS.length);
  });

  it('names the audience of a node token by the member it is for', () => {
    expect(peerAudience('GMP')).toBe('mcx-peer:GMP');
  });
});

describe('member statuses', () => {
  it('maps every fan-out status to a member status', () => {
    expect(fromPeerStatus('answered')).toBe('ANSWERED');
    expect(fromPeerStatus('circuit_open')).toBe('CIRCUIT_OPEN');
    expect(fromPeerStatus('bad_data')).toBe('BAD_DATA');
  });

  it('reports a member by the worse of two statuses, the first on a tie', () => {
    expect(worse('ANSWERED', 'TIMED_OUT')).toBe('TIMED_OUT');
    expect(worse('UNAVAILABLE', 'TRUNCATED')).toBe('UNAVAILABLE');
    expect(worse('REFUSED', 'BAD_DATA')).toBe('REFUSED');
    expect(worse('BAD_DATA', 'BAD_DATA')).toBe('BAD_DATA');
  });

  it('is COMPLETE only when every row answered, and never with no rows', () => {
    const rows = (...s: MemberStatus[]) => s.map((status) => ({ status }));
    expect(completeness(rows('ANSWERED', 'ANSWERED'))).toBe('COMPLETE');
    expect(completeness(rows('ANSWERED', 'TRUNCATED'))).toBe('PARTIAL');
    expect(completeness(rows())).toBe('PARTIAL');
  });
});

describe('wire schemas', () => {
  const withheld = { restricted: 0, reviewOverdue: 0, notDisclosable: 0 };

  it('accepts a history answer and leaves its records to be checked one by one', () => {
    const answer = { matches: [], records: [{ not: 'a record' }], withheld, associateLinks: [] };
    expect(PeerHistoryAnswer.safeParse(answer).success).toBe(true);
    expect(SignedRecordWire.safeParse(answer.records[0]).success).toBe(false);
  });

  it('refuses a history answer with a match of an unknown strength or a negative count', () => {
    const match = { subjectRef: 'S1', strength: 'CERTAIN', matchedKinds: [], conflicts: [] };
    expect(PeerHistoryAnswer.safeParse({ matches: [match], records: [], withheld, associateLinks: [] }).success).toBe(false);
    expect(
      PeerHistoryAnswer.safeParse({ matches: [], records: [], withheld: { ...withheld, restricted: -1 }, associateLinks: [] }).success,
    ).toBe(false);
  });

  it('requires the links of a link-count answer to be a list', () => {
    expect(PeerLinksAnswer.safeParse({ links: [] }).success).toBe(true);
    expect(PeerLinksAnswer.safeParse({ links: {} }).success).toBe(false);
    expect(PeerLinksAnswer.safeParse(null).success).toBe(false);
  });
});
