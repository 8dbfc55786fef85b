import { describe, expect, it } from 'vitest';

import { caseRefProblems, unusualHours, unusualVolume, type AlertInput } from './alerts.js';
import { parseAuditEntry, type AuditEntryInput } from './entry.js';
import { fixtureEntry } from './fixtures/audit-log.js';
import { thrownCode } from './fixtures/thrown-code.js';

const actor = (subject: string, force = 'WMP'): AuditEntryInput['actor'] => ({
  subject,
  force,
  orgKind: 'police',
  roles: ['investigator'],
});

function window(specs: Array<[string, Partial<AuditEntryInput>]>): AlertInput[] {
  return specs.map(([subject, overrides], i) => ({
    seq: i + 1,
    // This node's own users unless an entry says which member relayed it.
    entry: parseAuditEntry(fixtureEntry(i + 1, { action: 'consultation', actor: actor(subject), requestingNode: null, ...overrides })),
  }));
}

describe('fishing alerts', () => {
  it('unusualVolume: actors with more consultations than the threshold, most first, other actions ignored', () => {
    const entries = window([
      ['alice', {}],
      ['bob', {}],
      ['alice', {}],
      ['alice', { outcome: 'refused' }],
      ['bob', {}],
      ['alice', { action: 'disclosure' }],
      ['carol', { actor: actor('carol', 'GMP') }],
      ['bob', {}],
      ['alice', {}],
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 2 })).toEqual([
      {
        kind: 'unusual_volume',
        actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null },
        count: 4,
        sampleSeqs: [1, 3, 4, 9],
      },
      {
        kind: 'unusual_volume',
        actor: { subject: 'bob', issuer: null, force: 'WMP', requestingNode: null },
        count: 3,
        sampleSeqs: [2, 5, 8],
      },
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 3, sampleSize: 2 })).toEqual([
      {
        kind: 'unusual_volume',
        actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null },
        count: 4,
        sampleSeqs: [1, 3],
      },
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 4 })).toEqual([]);
    expect(thrownCode(() => unusualVolume(entries, { perActorThreshold: -1 }))).toBe('ALERT_OPTIONS_INVALID');
  });

  it('the same subject at two issuers is two actors; entries that did not record the issuer are a third', () => {
    const at = (issuer: string) => ({ actor: { ...actor('u-17'), issuer } });
    const entries = window([
      ['u-17', at('https://login.example/wmp')],
      ['u-17', at('https://idp.example/birmingham-council')],
      ['u-17', at('https://login.example/wmp')],
      ['u-17', {}],
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 0 }).map((a) => [a.actor.issuer, a.count])).toEqual([
      ['https://login.example/wmp', 2],
      [null, 1],
      ['https://idp.example/birmingham-council', 1],
    ]);
  });

  it("with this node named, other forces' reads of its records count; a disclosure to its own request does not count twice", () => {
    const entries = window([
      ['gmp-inv', { action: 'disclosure', actor: actor('gmp-inv', 'GMP'), requestingNode: 'GMP' }],
      ['gmp-inv', { action: 'disclosure', actor: actor('gmp-inv', 'GMP'), requestingNode: 'GMP', caseRef: 'GMP/2026/77' }],
      ['gmp-inv', { action: 'disclosure', actor: actor('gmp-inv', 'GMP'), requestingNode: 'GMP', outcome: 'refused' }],
      ['alice', { action: 'consultation' }],
      ['alice', { action: 'disclosure', requestingNode: 'WMP' }],
      ['alice', { action: 'consultation' }],
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 1, node: 'WMP' })).toEqual([
      {
        kind: 'unusual_volume',
        actor: { subject: 'gmp-inv', issuer: null, force: 'GMP', requestingNode: 'GMP' },
        count: 3,
        sampleSeqs: [1, 2, 3],
      },
      {
        kind: 'unusual_volume',
        actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null },
        count: 2,
        sampleSeqs: [4, 6],
      },
    ]);
    // Without the node, only this node's own consultations count (as before).
    expect(unusualVolume(entries, { perActorThreshold: 1 }).map((a) => a.actor.subject)).toEqual(['alice']);
    // Another force's case reference is in its own format: not flagged as malformed here.
    expect(caseRefProblems(entries, { node: 'WMP' }).filter((a) => a.actor.force === 'GMP')).toEqual([]);
  });

  it("the same actor stated by two members is two actors: one member cannot merge its counts into another's", () => {
    const provider = (requestingNode: string) => ({
      action: 'disclosure' as const,
      actor: { ...actor('care-7', 'PROVX'), orgKind: 'provider' as const, issuer: 'https://idp.example/care' },
      requestingNode,
    });
    const entries = window([
      ['care-7', provider('GMP')],
      ['care-7', provider('MPS')],
      ['care-7', provider('GMP')],
    ]);
    expect(
      unusualVolume(entries, { perActorThreshold: 0, node: 'WMP' }).map((a) => [a.actor.requestingNode, a.count, a.sampleSeqs]),
    ).toEqual([
      ['GMP', 2, [1, 3]],
      ['MPS', 1, [2]],
    ]);
    // Spread across members, the reads still count together against the threshold: both rows show.
    expect(unusualVolume(entries, { perActorThreshold: 2, node: 'WMP' }).map((a) => [a.actor.requestingNode, a.count])).toEqual([
      ['GMP', 2],
      ['MPS', 1],
    ]);
    expect(unusualVolume(entries, { perActorThreshold: 3, node: 'WMP' })).toEqual([]);
  });

  it('unusualHours: outside 07:00-19:00 London time, across summer time', () => {
    const entries = window([
      ['alice', { at: '2025-07-01T06:30:00.000Z' }], // 07:30 BST: working
      ['alice', { at: '2025-01-15T06:30:00.000Z' }], // 06:30 GMT: outside
      ['bob', { at: '2025-07-01T18:30:00.000Z' }], // 19:30 BST: outside
      ['bob', { at: '2025-01-15T18:59:59.999Z' }], // 18:59 GMT: working
      ['bob', { at: '2025-03-30T01:30:00.000Z' }], // 02:30 BST, the night the clocks change: outside
      ['carol', { at: '2025-01-15T03:00:00.000Z', action: 'collection' }], // not a consultation
    ]);
    expect(unusualHours(entries)).toEqual([
      { kind: 'unusual_hours', actor: { subject: 'bob', issuer: null, force: 'WMP', requestingNode: null }, count: 2, sampleSeqs: [3, 5] },
      { kind: 'unusual_hours', actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null }, count: 1, sampleSeqs: [2] },
    ]);
    const utc = unusualHours(entries, { startHour: 7, endHour: 19, timeZone: 'UTC' });
    expect(utc.map((a) => [a.actor.subject, a.sampleSeqs])).toEqual([
      ['alice', [1, 2]],
      ['bob', [5]],
    ]);
    const nightShift = unusualHours(entries, { startHour: 19, endHour: 7, timeZone: 'Europe/London' });
    expect(nightShift.map((a) => [a.actor.subject, a.sampleSeqs])).toEqual([
      ['alice', [1]],
      ['bob', [4]],
    ]);
    expect(thrownCode(() => unusualHours(entries, { startHour: 7, endHour: 19, timeZone: 'Mars/Olympus' }))).toBe('ALERT_OPTIONS_INVALID');
    expect(thrownCode(() => unusualHours(entries, { startHour: 7, endHour: 7, timeZone: 'UTC' }))).toBe('ALERT_OPTIONS_INVALID');
  });

  it('caseRefProblems: missing and malformed case references, against the default or a force pattern', () => {
    const entries = window([
      ['alice', { caseRef: null }],
      ['alice', { caseRef: 'WMP-25-000123' }],
      ['alice', { caseRef: 'fishing' }],
      ['bob', { caseRef: null }],
      ['bob', { caseRef: 'wmp-25-1' }],
      ['bob', { caseRef: `WMP-25-${'1'.repeat(40)}` }],
      ['carol', { caseRef: null, action: 'collection' }],
    ]);
    expect(caseRefProblems(entries)).toEqual([
      {
        kind: 'case_ref_missing',
        actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null },
        count: 1,
        sampleSeqs: [1],
      },
      { kind: 'case_ref_missing', actor: { subject: 'bob', issuer: null, force: 'WMP', requestingNode: null }, count: 1, sampleSeqs: [4] },
      {
        kind: 'case_ref_malformed',
        actor: { subject: 'bob', issuer: null, force: 'WMP', requestingNode: null },
        count: 2,
        sampleSeqs: [5, 6],
      },
      {
        kind: 'case_ref_malformed',
        actor: { subject: 'alice', issuer: null, force: 'WMP', requestingNode: null },
        count: 1,
        sampleSeqs: [3],
      },
    ]);
    const lenient = caseRefProblems(entries, { caseRefPattern: /^[a-z0-9-]+$/i, maxLength: 64 });
    expect(lenient.filter((a) => a.kind === 'case_ref_malformed')).toEqual([]);
    expect(thrownCode(() => caseRefProblems(entries, { caseRefPattern: /WMP-\d+/ }))).toBe('ALERT_OPTIONS_INVALID');
    expect(caseRefProblems(entries, { caseRefPattern: /^[A-Z]{2,4}-\d{2,4}-\d{1,10}$/g })).toEqual(caseRefProblems(entries));
  });
});
