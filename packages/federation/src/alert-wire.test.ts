import { describe, expect, it } from 'vitest';

import { JOB_TYP, RECEIPT_TYP } from '@mcx/signing';

import { ALERT_TYP, MAX_HOLDER_EPISODES, PeerHoldersAnswer, PeerHoldersShape } from './alert-wire.js';

const match = (subjectRef: string, episodes: number, recentEpisodes: number) => ({ subjectRef, episodes, recentEpisodes });

describe('alert wire', () => {
  it('an alert message has a JWS typ of its own: no record, peer token, checkpoint, manifest or receipt shares it', () => {
    expect([...Object.values(JOB_TYP), RECEIPT_TYP]).not.toContain(ALERT_TYP);
    expect(ALERT_TYP).toBe('mcx-alert+jws');
  });

  it('takes counts in range: up to the cap per subject, the recent ones at most all of them', () => {
    const ok = { matches: [match('S-1', MAX_HOLDER_EPISODES, MAX_HOLDER_EPISODES), match('S-2', 3, 0), match('S-3', 0, 0)] };
    expect(PeerHoldersAnswer.safeParse(ok).success).toBe(true);
  });

  it('refuses counts a holder cannot have: above the cap, recent above all, a negative or fractional count, a subject twice', () => {
    for (const matches of [
      [match('S-1', 1_000_000, 1_000_000)],
      [match('S-1', MAX_HOLDER_EPISODES + 1, 0)],
      [match('S-1', 2, 3)],
      [match('S-1', -1, 0)],
      [match('S-1', 1.5, 1)],
      [match('S-1', 2, 1), match('S-1', 2, 1)],
    ]) {
      expect(PeerHoldersAnswer.safeParse({ matches }).success, JSON.stringify(matches)).toBe(false);
    }
    // Well formed on the wire all the same: the caller tells a lie apart from garbage, and flags it.
    expect(PeerHoldersShape.safeParse({ matches: [match('S-1', 1_000_000, 1_000_000)] }).success).toBe(true);
    expect(PeerHoldersShape.safeParse({ matches: [{ subjectRef: 'S-1', episodes: 1 }] }).success).toBe(false);
  });
});
