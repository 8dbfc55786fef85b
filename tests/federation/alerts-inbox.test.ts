/**
 * A node's inbox under members' real signed mcx.alert/1 messages (WMP runs; the senders are
 * members by their real keys): event numbers are dense and commit-ordered, so a reader polling
 * alerts(after:) while many deliveries land at once sees every alert exactly once; a member
 * flooding the inbox is refused past its quota and flagged while a normal burst passes; an alert
 * message has its own JWS typ, and one too old or from the future is refused, each by its code.
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PEER_OPERATIONS } from '@mcx/federation';
import { alertId } from '@mcx/node';
import { keyResolverFromKeys, signRecord, verifyRecord } from '@mcx/signing';

import { alertsAt, auditOps, sendAlert, signedAlert, withEnv } from '../testkit/alerts.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

const ALERTS = gql`
  query Alerts($after: Int, $first: Int) {
    alerts(after: $after, first: $first) {
      lastEventNumber
      nodes {
        id
        eventNumber
      }
    }
  }
`;
const DELIVERY = gql`
  query D {
    alertDelivery {
      flaggedMembers {
        member
        reason
      }
    }
  }
`;
const QUOTA = 40;
const FORCES = ['WMP', 'MPS', 'GMP', 'BTP', 'TVP'] as const;
type Force = (typeof FORCES)[number];

let fed: TestFederation;
let wmp: TestNode;
let close: () => Promise<void>;
let restoreEnv: () => void;

/** `n` episode ids, a hex `tag` telling each batch apart. */
const episodeIds = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i.toString(16).padStart(7, '0')}-0000-4000-8000-${tag.repeat(12)}`);

/** A well-formed alert from `from` to WMP about an episode of `from`'s. */
const alertFrom = (from: Force, episodeId: string, extra: Record<string, unknown> = {}) =>
  signedAlert(fed, from, 'WMP', { id: alertId('CROSS_MATCH', from, episodeId, 'WMP'), episodeId, ...extra });

beforeAll(async () => {
  restoreEnv = withEnv({ MCX_ALERT_INBOUND_PER_MINUTE: String(QUOTA) });
  ({
    fed,
    nodes: { WMP: wmp },
    close,
  } = (await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    start: ['WMP'],
    // Load shedding off: the deliveries land at once on purpose, on a shared test machine.
    env: { MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' },
  })) as unknown as { fed: TestFederation; nodes: { WMP: TestNode }; close: () => Promise<void> });
}, 120_000);

afterAll(async () => {
  await close?.();
  restoreEnv?.();
});

describe('event numbers', () => {
  it('are dense and commit-ordered: a reader polling with after sees every alert exactly once, redeliveries taking no number', async () => {
    const reader = await wmp.as({
      roles: ['investigator'],
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'WMP-26-1001' },
    });
    const seen: { id: string; eventNumber: number }[] = [];
    let after = 0;
    let sending = true;
    const poll = async () => {
      for (;;) {
        const { alerts } = (await reader.request(ALERTS, { after, first: 200 })) as {
          alerts: { nodes: { id: string; eventNumber: number }[] };
        };
        seen.push(...alerts.nodes);
        if (alerts.nodes.length > 0) after = alerts.nodes.at(-1)!.eventNumber;
        else if (!sending) return;
        else await new Promise((r) => setTimeout(r, 5));
      }
    };
    const polling = poll();
    const sent = [
      ...episodeIds(30, 'a').map((e) => ({ from: 'MPS' as const, e })),
      ...episodeIds(8, 'b').map((e) => ({ from: 'GMP' as const, e })),
    ].map(({ from, e }) => ({ from, id: alertId('CROSS_MATCH', from, e, 'WMP'), message: alertFrom(from, e) }));
    // Every message at once, and a third of them again (redeliveries), all concurrently.
    const deliveries = [...sent, ...sent.filter((_, i) => i % 3 === 0)];
    const answers = await Promise.all(deliveries.map((d) => sendAlert(fed, wmp, d.from, d.message)));
    sending = false;
    await polling;
    expect(answers.filter((a) => a.includes('"firstDelivery":true'))).toHaveLength(sent.length);
    expect(answers.filter((a) => a.includes('"firstDelivery":false'))).toHaveLength(deliveries.length - sent.length);
    expect(seen.map((a) => a.id).sort()).toEqual(sent.map((d) => d.id).sort());
    expect(seen.map((a) => a.eventNumber)).toEqual(Array.from({ length: sent.length }, (_, i) => i + 1));
    const { alerts } = (await reader.request(ALERTS, { after: 0, first: 200 })) as { alerts: { lastEventNumber: number } };
    expect(alerts.lastEventNumber).toBe(sent.length);
  });
});

describe('the per-member quota on incoming alerts', () => {
  it('takes a burst up to the quota, refuses the next with ALERT_QUOTA_EXCEEDED, flags the member; another member still passes', async () => {
    // The quota counts per minute: start clear of a minute's end, so the burst and the next one share a window.
    const second = new Date().getUTCSeconds();
    if (second > 45) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
    const burst = episodeIds(QUOTA, 'c').map((e) => alertFrom('BTP', e));
    const answers = await Promise.all(burst.map((m) => sendAlert(fed, wmp, 'BTP', m)));
    expect(answers.filter((a) => a.includes('"firstDelivery":true'))).toHaveLength(QUOTA);
    const over = await sendAlert(fed, wmp, 'BTP', alertFrom('BTP', 'cfffffff-0000-4000-8000-cccccccccccc'));
    expect(over).toContain('ALERT_QUOTA_EXCEEDED');
    expect(over).not.toContain('firstDelivery');
    // Refused before anything was stored.
    const held = await alertsAt<{ id: string }>(wmp, ALERTS, {}, { first: 200, after: 0 });
    expect(held.map((a) => a.id)).not.toContain(alertId('CROSS_MATCH', 'BTP', 'cfffffff-0000-4000-8000-cccccccccccc', 'WMP'));
    expect(await sendAlert(fed, wmp, 'TVP', alertFrom('TVP', 'dddddddd-0000-4000-8000-dddddddddddd'))).toContain('"firstDelivery":true');
    const operator = await wmp.as({ roles: ['operator'] });
    const { alertDelivery } = (await operator.request(DELIVERY, {})) as {
      alertDelivery: { flaggedMembers: { member: string; reason: string }[] };
    };
    expect(alertDelivery.flaggedMembers).toEqual([{ member: 'BTP', reason: 'ALERT_QUOTA_EXCEEDED' }]);
    expect((await auditOps(wmp, 'peerAlert')).filter((e) => e.outcome === 'refused')).toEqual([
      { action: 'collection', requesting_node: 'BTP', outcome: 'refused', reason: 'ALERT_QUOTA_EXCEEDED' },
    ]);
  });
});

describe('the alert message’s own JWS typ and its sentAt', () => {
  const TVP_EPISODE = (n: number) => `eeeeeee${n}-0000-4000-8000-eeeeeeeeeeee`;

  it('refuses a message signed as a record (typ mcx-record+jws) with ALERT_WRONG_TYP; an alert’s JWS does not verify as a record', async () => {
    const episodeId = TVP_EPISODE(1);
    const good = alertFrom('TVP', episodeId);
    const asRecord = signRecord(JSON.parse(good.bytes) as object, fed.keys.TVP!.record);
    expect(asRecord.bytes).toBe(good.bytes);
    const answer = await sendAlert(fed, wmp, 'TVP', asRecord);
    expect(answer).toContain('ALERT_WRONG_TYP');
    expect(answer).not.toContain('firstDelivery');
    expect(verifyRecord(good.bytes, good.signature, keyResolverFromKeys([fed.keys.TVP!.record]))).toEqual({
      valid: false,
      reason: 'WRONG_TYP',
    });
    // The same bytes under the alert's own typ are taken.
    expect(await sendAlert(fed, wmp, 'TVP', good)).toContain('"firstDelivery":true');
  });

  it('refuses a sentAt older than the maximum (ALERT_TOO_OLD) or ahead beyond the skew (ALERT_FROM_FUTURE); within the skew it is taken', async () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const old = await sendAlert(fed, wmp, 'TVP', alertFrom('TVP', TVP_EPISODE(2), { sentAt: at(-5 * 86_400_000) }));
    expect(old).toContain('ALERT_TOO_OLD');
    const ahead = await sendAlert(fed, wmp, 'TVP', alertFrom('TVP', TVP_EPISODE(3), { sentAt: at(10 * 60_000) }));
    expect(ahead).toContain('ALERT_FROM_FUTURE');
    const skewed = await sendAlert(fed, wmp, 'TVP', alertFrom('TVP', TVP_EPISODE(4), { sentAt: at(30_000) }));
    expect(skewed).toContain('"firstDelivery":true');
    const refused = (await auditOps(wmp, 'peerAlert')).filter((e) => e.requesting_node === 'TVP' && e.outcome === 'refused');
    expect(refused.map((e) => e.reason)).toEqual(['ALERT_WRONG_TYP', 'ALERT_TOO_OLD', 'ALERT_FROM_FUTURE']);
  });
});
