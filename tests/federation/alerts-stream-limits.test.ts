/**
 * What one client may cost a node through the live alert stream, on a real node over loopback
 * HTTP: a connect catches up at most MCX_ALERT_STREAM_CATCH_UP alerts and says when more are
 * there (the client reads them with alerts(after:)); a client that stops reading stops the stream
 * reading (and auditing) the inbox, and has every alert once it reads again; another person's
 * WATCH alert wakes no read, so no audit entry, of a stream that cannot see it; and one person
 * opening streams too often is refused with 429 and its reason.
 */
import http from 'node:http';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience } from '@mcx/auth';

import { RawStream } from '../testkit/alert-stream.js';
import { ownerSql, until } from '../testkit/alerts.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

const CATCH_UP = 5;
const SUBSCRIBE = `subscription S($after: Int) { alertAdded(after: $after) { id eventNumber episode { ownerReference } } }`;

type Alert = { id: string; eventNumber: number; episode: { ownerReference: string } };

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({
    force: 'WMP',
    env: {
      MCX_ALERT_STREAM_HEARTBEAT_MS: '500',
      MCX_ALERT_STREAM_POLL_MS: '60000',
      MCX_ALERT_STREAM_MAX_PER_USER: '5',
      MCX_ALERT_STREAM_CATCH_UP: String(CATCH_UP),
      MCX_ALERT_STREAM_OPENS_PER_MINUTE: '6',
      MCX_ALERT_STREAM_OPEN_BURST: '4',
    },
  });
}, 120_000);

afterAll(() => node?.close());

function token(subject: string): Promise<string> {
  return node.issuer.mintToken({
    roles: ['investigator'],
    force: 'WMP',
    orgKind: 'police',
    subject,
    kind: 'user',
    ttlSec: 600,
    audience: devAudience('WMP'),
  });
}

function streamBody(after: number): string {
  return JSON.stringify({ query: SUBSCRIBE, variables: { after } });
}

async function openStream(subject: string, after: number): Promise<RawStream<Alert>> {
  const abort = new AbortController();
  const res = await fetch(`${node.node.url}/graphql/stream`, {
    method: 'POST',
    signal: abort.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${await token(subject)}`,
      ...readHeaders('WMP'),
    },
    body: streamBody(after),
  });
  return new RawStream<Alert>(res, abort);
}

/** Inserts alerts into the inbox as the owner (each its own transaction, so each notifies); their event numbers. */
async function insertAlerts(count: number, opts: { forUser?: string; ownerReference?: string } = {}): Promise<number[]> {
  return ownerSql(node, async (sql) => {
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) {
      await sql.begin(async (tx) => {
        const [n] = await tx`update alert_event_counter set last = last + 1 returning last`;
        const body = {
          yourSubjectRefs: ['WMP-SUBJ-1'],
          episode: {
            owner: 'MPS',
            id: crypto.randomUUID(),
            ownerReference: opts.ownerReference ?? 'MPS-MIS-1',
            contact24x7: null,
            riskGrade: 'LOW',
            reportedAt: null,
          },
          holders: [],
          threshold: null,
        };
        const kind = opts.forUser ? 'WATCH' : 'CROSS_MATCH';
        await tx`insert into alert_inbox (id, event_number, kind, from_node, body, for_user)
                 values (${crypto.randomUUID()}, ${n!.last}, ${kind}, 'MPS', ${tx.json(body)}, ${opts.forUser ?? null})`;
        numbers.push(Number(n!.last));
      });
    }
    return numbers;
  });
}

const lastEventNumber = () =>
  ownerSql(node, async (sql) => Number((await sql`select coalesce(max(event_number), 0)::bigint as n from alert_inbox`)[0]!.n));

/** The `alerts` audit entries of one subject: how many, and the alerts they released. */
async function alertsAudit(subject: string): Promise<{ entries: number; released: number }> {
  const rows = await ownerSql(
    node,
    (sql: postgres.Sql) => sql`select jsonb_array_length(entry->'recordIds')::int as n from audit_entries
      where entry->'query'->>'operation' = 'alerts' and entry->'actor'->>'subject' = ${subject}`,
  );
  return { entries: rows.length, released: rows.reduce((s, r) => s + Number(r.n), 0) };
}

describe('a connect’s catch-up', () => {
  it('sends at most the cap, its last saying more are there, then goes on with new alerts', async () => {
    const from = await lastEventNumber();
    const numbers = await insertAlerts(CATCH_UP + 3);
    const stream = await openStream('inv-catchup', from);
    expect(stream.res.status).toBe(200);
    await until('the catch-up', 5_000, async () => (stream.alerts().length >= CATCH_UP ? true : null));
    await new Promise((r) => setTimeout(r, 700));
    expect(stream.alerts().map((a) => a.eventNumber)).toEqual(numbers.slice(0, CATCH_UP));
    const next = stream.events.filter((e) => e.event === 'next');
    expect(next.at(-1)!.data.extensions).toMatchObject({ eventNumber: numbers[CATCH_UP - 1], catchUpTruncated: true });
    expect(next.slice(0, -1).every((e) => e.data.extensions?.catchUpTruncated === undefined)).toBe(true);
    // Only the alerts released were read and audited.
    expect((await alertsAudit('inv-catchup')).released).toBe(CATCH_UP);
    // A new alert comes live, without the cap's mark.
    const [live] = await insertAlerts(1);
    await until('the live alert', 5_000, async () => (stream.alerts().some((a) => a.eventNumber === live) ? true : null));
    expect(stream.events.filter((e) => e.event === 'next').at(-1)!.data.extensions?.catchUpTruncated).toBeUndefined();
    await stream.close();
  });

  it('says nothing of a catch-up that fits under the cap', async () => {
    const from = await lastEventNumber();
    const numbers = await insertAlerts(CATCH_UP);
    const stream = await openStream('inv-fits', from);
    await until('the catch-up', 5_000, async () => (stream.alerts().length >= CATCH_UP ? true : null));
    expect(stream.alerts().map((a) => a.eventNumber)).toEqual(numbers);
    expect(stream.events.some((e) => e.data.extensions?.catchUpTruncated !== undefined)).toBe(false);
    await stream.close();
  });
});

describe('a client that stops reading', () => {
  it('stops the stream reading and auditing the inbox, and has every alert, in order, once it reads again', async () => {
    const from = await lastEventNumber();
    const req = http.request(`${node.node.url}/graphql/stream`, {
      method: 'POST',
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        authorization: `Bearer ${await token('inv-paused')}`,
        ...readHeaders('WMP'),
      },
    });
    req.end(streamBody(from));
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    // The client reads nothing: its socket fills, then the node's.
    res.pause();
    // Each alert 256 KiB: 48 of them (12 MiB) are more than both sockets' buffers hold.
    const big = 'R'.repeat(256 * 1024);
    const COUNT = 48;
    const numbers: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      numbers.push(...(await insertAlerts(1, { ownerReference: big })));
      await new Promise((r) => setTimeout(r, 40));
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const paused = await alertsAudit('inv-paused');
    expect(paused.released).toBeLessThan(COUNT);
    // Still so a moment later: nothing more is read while the client does not read.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await alertsAudit('inv-paused')).released).toBe(paused.released);
    // Reading again, the client has every alert once, in order, each audited as it was released.
    let text = '';
    const got: number[] = [];
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      let cut: number;
      while ((cut = text.indexOf('\n\n')) !== -1) {
        const frame = text.slice(0, cut);
        text = text.slice(cut + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (frame.includes('event: next') && data)
          got.push((JSON.parse(data) as { data: { alertAdded: Alert } }).data.alertAdded.eventNumber);
      }
    });
    res.resume();
    await until('every alert', 20_000, async () => (got.length >= COUNT ? true : null));
    expect(got).toEqual(numbers);
    expect((await alertsAudit('inv-paused')).released).toBe(COUNT);
    req.destroy();
  }, 60_000);
});

describe('another person’s WATCH alert', () => {
  it('wakes no read of a stream that cannot see it, so writes no audit entry for it', async () => {
    const stream = await openStream('inv-bystander', await lastEventNumber());
    expect(stream.res.status).toBe(200);
    // The stream's first look at the inbox is over before the count is taken.
    await new Promise((r) => setTimeout(r, 500));
    const before = await alertsAudit('inv-bystander');
    await insertAlerts(3, { forUser: 'https://login.example/other inv-someone-else' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await alertsAudit('inv-bystander')).toEqual(before);
    expect(stream.alerts()).toEqual([]);
    // An alert it may see is read, and audited, as before.
    const [mine] = await insertAlerts(1);
    await until('its own alert', 5_000, async () => (stream.alerts().some((a) => a.eventNumber === mine) ? true : null));
    expect((await alertsAudit('inv-bystander')).released).toBe(before.released + 1);
    await stream.close();
  });
});

describe('opening streams too often', () => {
  it('is refused with 429 and ALERT_STREAM_OPEN_RATE once the person’s burst is spent; someone else is not held to it', async () => {
    const after = 1_000_000;
    const statuses: number[] = [];
    let refused: RawStream<Alert> | null = null;
    for (let i = 0; i < 5; i++) {
      const s = await openStream('inv-churn', after);
      statuses.push(s.res.status);
      if (s.res.status === 200) await s.close();
      else refused = s;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(Number(refused!.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused!.res.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      reason: 'ALERT_STREAM_OPEN_RATE',
    });
    const other = await openStream('inv-calm', after);
    expect(other.res.status).toBe(200);
    await other.close();
  });
});
