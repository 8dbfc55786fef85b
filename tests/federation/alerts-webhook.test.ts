/**
 * The signed webhook to a force's own system, on real nodes: WMP's inbox alert is POSTed to a
 * receiver that refuses twice and then takes it. Every attempt carries the same Idempotency-Key
 * (the alert id) and a signature that verifies with WMP's record key; after the receiver takes
 * it, nothing more is sent.
 */
import { createServer, type Server } from 'node:http';

import { gql } from 'graphql-tag';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nodeLoginUrl } from '@mcx/db/testing';
import { PEER_OPERATIONS } from '@mcx/federation';
import { keyResolverFromKeys, verifyRecord } from '@mcx/signing';

import { openInput, ownerSql, publishEpisode, publishSubject, syntheticChild } from '../testkit/alerts.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import type { TestNode } from '../testkit/node.js';

const { child, identity } = syntheticChild(545454, 0);

type Call = { key: string | undefined; signature: string | undefined; node: string | undefined; body: string; status: number };
const calls: Call[] = [];
let receiver: Server;
let fed: TestFederation;
let nodes: Record<'GMP' | 'WMP', TestNode>;
let close: () => Promise<void>;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // Refuses the first two attempts, then takes the alert.
      const status = calls.length < 2 ? 503 : 200;
      calls.push({
        key: req.headers['idempotency-key'] as string | undefined,
        signature: req.headers['x-mcx-signature'] as string | undefined,
        node: req.headers['x-mcx-node'] as string | undefined,
        body,
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as { port: number };
  ({ fed, nodes, close } = await startFederation(['GMP', 'WMP'] as const, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    node: (m) => (m === 'WMP' ? { env: { MCX_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/mcx-alerts` } } : {}),
  }));
  await publishSubject(nodes.GMP, 'GMP-SUBJ-6', identity);
  await publishSubject(nodes.WMP, 'WMP-SUBJ-6', identity);
}, 180_000);

afterAll(async () => {
  await close?.();
  await new Promise((r) => receiver?.close(r));
});

describe('the signed alert webhook', () => {
  it('retries with the same Idempotency-Key and a valid signature until taken, then stops', async () => {
    const input = openInput('GMP-SUBJ-6');
    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const end = Date.now() + 60_000;
    while (!calls.some((c) => c.status === 200) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(calls.map((c) => c.status)).toEqual([503, 503, 200]);
    const alert = JSON.parse(calls[0]!.body) as { id: string; kind: string; fromNode: string; episode: { id: string }; node: string };
    expect(alert).toMatchObject({ kind: 'CROSS_MATCH', fromNode: 'GMP', node: 'WMP', episode: { id: input.id } });
    const resolver = keyResolverFromKeys([fed.keys.WMP!.record]);
    for (const c of calls) {
      expect(c.key).toBe(alert.id);
      expect(c.node).toBe('WMP');
      expect(c.body).toBe(calls[0]!.body);
      expect(verifyRecord(c.body, c.signature!, resolver).valid).toBe(true);
      for (const n of [child.forename!, child.surname!, child.dob!]) expect(c.body).not.toContain(n);
    }
    // A body changed in transit does not verify.
    expect(verifyRecord(calls[0]!.body.replace('CROSS_MATCH', 'WATCH'), calls[0]!.signature!, resolver).valid).toBe(false);
  }, 90_000);

  it('a message given up after its retries is a dead letter, shown to operators only', async () => {
    const DELIVERY = gql`
      query D {
        alertDelivery {
          outboxDepth
          pendingDeliveries
          webhookDeadLetters
          deadLetters {
            id
            recipient
            attempts
            lastError
            deadAt
          }
        }
      }
    `;
    // A pending message to WMP, as the cross-match writes one (the owner's SQL stands in for a run whose retries ran out).
    const outboxId = '11111111-1111-4111-8111-111111111111';
    const deliveryId = '22222222-2222-4222-8222-222222222222';
    await ownerSql(nodes.GMP, async (sql) => {
      await sql`insert into alert_outbox (id, kind, payload, enqueued_at) values (${outboxId}, 'CROSS_MATCH', '{}'::jsonb, now())`;
      await sql`insert into alert_deliveries (id, outbox_id, recipient, signed_bytes, signature, attempts, last_error)
                values (${deliveryId}, ${outboxId}, 'WMP', '{}', 'x', 17, 'UNAVAILABLE:CONNECTION_REFUSED')`;
    });
    // pg-boss moves a job past its retry limit to the dead-letter queue: the same, sent as the node's login.
    const boss = new PgBoss({
      connectionString: await nodeLoginUrl(nodes.GMP.databaseUrl),
      migrate: false,
      schedule: false,
      supervise: false,
      max: 1,
    });
    boss.on('error', () => undefined);
    await boss.start();
    try {
      expect(await boss.send('mcx-alert-dead', { deliveryId })).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    const operator = await nodes.GMP.as({ roles: ['operator'] });
    type Status = { deadLetters: { id: string; recipient: string; attempts: number; lastError: string | null; deadAt: string | null }[] };
    let status: Status = { deadLetters: [] };
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      status = ((await operator.request(DELIVERY, {})) as { alertDelivery: Status }).alertDelivery;
      if (status.deadLetters.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status.deadLetters).toEqual([
      { id: deliveryId, recipient: 'WMP', attempts: 17, lastError: 'UNAVAILABLE:CONNECTION_REFUSED', deadAt: expect.any(String) },
    ]);
    const investigator = await nodes.GMP.as({
      roles: ['investigator'],
      headers: { 'x-mcx-purpose': 'MISSING_LIVE_SEARCH', 'x-mcx-case-ref': 'GMP-26-1001' },
    });
    await expect(investigator.request(DELIVERY, {})).rejects.toThrow(/operator\.admin|FORBIDDEN/);
  });
});
