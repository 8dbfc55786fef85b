/**
 * The live alert stream (Subscription.alertAdded, GraphQL over Server-Sent Events at
 * /graphql/stream) on real nodes over loopback HTTP: MPS publishes an OPEN episode of a child WMP
 * holds, and an investigator's stream at WMP has the alert within 5 s; a reconnect with the last
 * event number gets exactly the alerts it missed; heartbeats keep the connection; bad tokens are
 * refused as /graphql refuses them, before any stream opens; the stream ends at its token's
 * expiry; the per-person cap holds and closing a stream frees its place and its LISTEN
 * connection; every streamed alert is audited; no payload holds a name or a date of birth.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devAudience, type Role } from '@mcx/auth';
import { PublishSubjectDocument } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';
import { syntheticChildren } from '@mcx/linkage';

import { RawStream, until } from '../testkit/alert-stream.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { startFederation, type TestFederation } from '../testkit/federation.js';
import { postGraphQL } from '../testkit/graphql.js';
import { readHeaders, startTestNode, type TestNode } from '../testkit/node.js';

const FORCES = ['WMP', 'MPS'] as const;
type Force = (typeof FORCES)[number];
const REF: Record<Force, string> = { WMP: 'WMP-SUBJ-5', MPS: 'MPS-SUBJ-9' };
const [child] = syntheticChildren(1, { seed: 515151, referenceDate: '2026-11-22', nhsShare: 1 });
const SEX = { F: 'FEMALE', M: 'MALE', X: 'OTHER', U: 'UNKNOWN' } as const;
const identity = { forename: child!.forename, surname: child!.surname, dob: child!.dob, sex: child!.sex ? SEX[child!.sex] : undefined };
const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);

const SUBSCRIBE = `subscription S($after: Int) {
  alertAdded(after: $after) { id eventNumber kind fromNode yourSubjectRefs episode { owner id ownerReference contact24x7 riskGrade } receivedAt }
}`;
const ALERTS = `query A($after: Int) { alerts(after: $after, first: 200) { lastEventNumber nodes { id eventNumber } } }`;

type Alert = { id: string; eventNumber: number; kind: string; fromNode: string; episode: { id: string; ownerReference: string } };
type StreamEvent = {
  event: string;
  id?: number;
  data: { data?: { alertAdded: Alert } | null; errors?: { extensions: Record<string, unknown> }[] };
};

let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;
const rawText: string[] = [];

async function token(force: Force, opts: { roles?: Role[]; subject?: string; ttlSec?: number; issuer?: Force } = {}): Promise<string> {
  return nodes[opts.issuer ?? force].issuer.mintToken({
    roles: opts.roles ?? ['investigator'],
    force: opts.issuer ?? force,
    orgKind: 'police',
    subject: opts.subject ?? 'inv-stream',
    kind: 'user',
    ttlSec: opts.ttlSec ?? 600,
    audience: devAudience(opts.issuer ?? force),
  });
}

async function openStream(
  force: Force | TestNode,
  auth: string | null,
  opts: { after?: number; headers?: Record<string, string>; query?: string } = {},
): Promise<RawStream<Alert>> {
  const abort = new AbortController();
  const node = typeof force === 'string' ? nodes[force] : force;
  const res = await fetch(`${node.node.url}/graphql/stream`, {
    method: 'POST',
    signal: abort.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(auth ? { authorization: auth } : {}),
      ...readHeaders(node.config.forceCode),
      ...opts.headers,
    },
    body: JSON.stringify({ query: opts.query ?? SUBSCRIBE, variables: opts.after === undefined ? {} : { after: opts.after } }),
  });
  return new RawStream<Alert>(res, abort, rawText);
}

async function openEpisode(ownerReference: string): Promise<string> {
  const input = episodeInput({
    subjectRef: REF.MPS,
    status: 'OPEN',
    foundAt: null,
    foundPlace: null,
    foundBy: null,
    ownerReference,
    assessment: { riskGrade: 'HIGH', indicators: [], regrades: [] },
  });
  expect((await publishEpisode(nodes.MPS.client, input)).errors).toEqual([]);
  return input.id!;
}

async function inboxAfter(after: number): Promise<{ lastEventNumber: number; nodes: { id: string; eventNumber: number }[] }> {
  const r = await postGraphQL(
    nodes.WMP.node.url,
    `Bearer ${await token('WMP', { subject: 'inv-query' })}`,
    ALERTS,
    { after },
    readHeaders('WMP'),
  );
  return (r.body.data as { alerts: { lastEventNumber: number; nodes: { id: string; eventNumber: number }[] } }).alerts;
}

async function sql<T>(query: (s: postgres.Sql) => Promise<T>): Promise<T> {
  const s = postgres(nodes.WMP.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await query(s);
  } finally {
    await s.end({ timeout: 5 });
  }
}

// WMP's alert-stream connections to its own database (other files' nodes share the server), or only those that LISTEN.
const streamConnections = (listening = false) =>
  sql(async (s) => {
    const [row] = await s`select count(*)::int as n from pg_stat_activity where application_name = 'mcx-alert-stream-WMP'
      and datname = current_database() and (${!listening} or query ilike 'listen%')`;
    return Number(row!.n);
  });

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    env: {
      MCX_ALERT_STREAM_HEARTBEAT_MS: '500',
      // No poll within a test: an alert reaches a stream through LISTEN/NOTIFY alone (the replica below polls).
      MCX_ALERT_STREAM_POLL_MS: '60000',
      MCX_ALERT_STREAM_MAX_PER_USER: '2',
      // Expiry is exact here, so a token can expire within the test.
      MCX_TOKEN_CLOCK_TOLERANCE_SECONDS: '0',
    },
  }));
  for (const force of FORCES) {
    const input = { subjectRef: REF[force], reviewAt, identity } as never;
    expect((await nodes[force].client.request(PublishSubjectDocument, { input })).publishSubject.errors).toEqual([]);
  }
}, 120_000);

afterAll(() => close?.());

describe('the live stream at WMP', () => {
  let first: RawStream<Alert>;
  let seen: Alert[] = [];

  it('has the alert within 5 s of MPS publishing an open episode of a child WMP holds, with its event number as the SSE id', async () => {
    first = await openStream('WMP', `Bearer ${await token('WMP')}`, { after: 0 });
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first.res.headers.get('cache-control')).toBe('no-store');
    expect(first.res.headers.get('x-accel-buffering')).toBe('no');
    const t0 = Date.now();
    const episodeId = await openEpisode('MPS-MIS-7001');
    seen = await until('the alert on the stream', 5_000, async () => (first.alerts().length > 0 ? first.alerts() : null));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      kind: 'CROSS_MATCH',
      fromNode: 'MPS',
      yourSubjectRefs: [REF.WMP],
      episode: { owner: 'MPS', id: episodeId, ownerReference: 'MPS-MIS-7001', riskGrade: 'HIGH' },
    });
    const next = first.events.find((e) => e.event === 'next')!;
    expect(next.id).toBe(seen[0]!.eventNumber);
  });

  it('sends a heartbeat comment at the configured interval', async () => {
    const before = first.comments.length;
    await new Promise((r) => setTimeout(r, 1_300));
    expect(first.comments.length - before).toBeGreaterThanOrEqual(2);
    expect(first.comments.at(-1)).toBe(': heartbeat');
  });

  it('a reconnect with the last event number gets exactly the alerts it missed, none twice, by argument or by Last-Event-ID', async () => {
    const last = seen.at(-1)!.eventNumber;
    await first.close();
    await openEpisode('MPS-MIS-7002');
    await openEpisode('MPS-MIS-7003');
    // The missed alerts, as the inbox holds them once everything has arrived (a threshold alert may come too).
    await until('two more alerts at WMP', 10_000, async () => ((await inboxAfter(last)).nodes.length >= 2 ? true : null));
    // All have arrived once the inbox is unchanged for longer than the alert queues' poll (2 s), when a retry comes.
    let missed = await inboxAfter(last);
    for (let steady = Date.now(); Date.now() - steady < 2_500; await new Promise((r) => setTimeout(r, 250))) {
      const now = await inboxAfter(last);
      if (now.nodes.length !== missed.nodes.length) [missed, steady] = [now, Date.now()];
    }
    for (const headers of [{}, { 'last-event-id': String(last) }]) {
      const again = await openStream('WMP', `Bearer ${await token('WMP')}`, {
        headers: headers as Record<string, string>,
        ...(Object.keys(headers).length ? {} : { after: last }),
      });
      const got = await until('the missed alerts', 5_000, async () =>
        again.alerts().length >= missed.nodes.length ? again.alerts() : null,
      );
      await new Promise((r) => setTimeout(r, 1_200));
      expect(again.alerts().map((a) => a.id)).toEqual(missed.nodes.map((n) => n.id));
      expect(got.map((a) => a.eventNumber)).toEqual(missed.nodes.map((n) => n.eventNumber));
      expect(new Set(got.map((a) => a.id)).size).toBe(got.length);
      expect(got[0]!.eventNumber).toBe(last + 1);
      await again.close();
    }
  });

  it('audits every streamed alert as alerts(after:) audits it: a consultation by the streaming person, naming each alert', async () => {
    const ids = (await inboxAfter(0)).nodes.map((n) => `alert/${n.id}`);
    const entries = await sql(
      (s) => s<{ action: string; record_ids: string[]; purpose: string }[]>`
        select action, record_ids, purpose from audit_entries
        where actor_subject = 'inv-stream' and entry->'query'->>'operation' = 'alerts' order by seq`,
    );
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.action === 'consultation' && e.purpose === 'MISSING_LIVE_SEARCH')).toBe(true);
    const audited = new Set(entries.flatMap((e) => e.record_ids));
    for (const id of ids) expect(audited.has(id)).toBe(true);
  });

  it('no payload holds the child’s name or date of birth', () => {
    const text = rawText.join('').toLowerCase();
    expect(text).toContain('mps-mis-7001');
    for (const n of [child!.forename!, child!.surname!, child!.dob!, child!.nhsNumber!].filter(Boolean))
      expect(text).not.toContain(n.toLowerCase());
  });
});

describe('refusals before any stream opens', () => {
  it('refuses a token of another force, an expired or malformed token, or none, exactly as /graphql does', async () => {
    const expired = await token('WMP', { ttlSec: 1 });
    await new Promise((r) => setTimeout(r, 2_100));
    const cases: [string, string | null, string][] = [
      ['another force', `Bearer ${await token('WMP', { issuer: 'MPS' })}`, 'TOKEN_'],
      ['expired', `Bearer ${expired}`, 'TOKEN_EXPIRED'],
      ['malformed', 'Bearer not.a.token', 'TOKEN_MALFORMED'],
      ['not bearer', 'Basic abc', 'TOKEN_MALFORMED'],
      ['none', null, 'TOKEN_MISSING'],
    ];
    for (const [what, auth, reason] of cases) {
      const stream = await openStream('WMP', auth);
      const body = (await stream.res.json()) as { errors: { extensions: { code: string; reason: string } }[] };
      const graphql = await postGraphQL(nodes.WMP.node.url, auth, '{ __typename }');
      expect(stream.res.status, what).toBe(401);
      expect(stream.res.headers.get('content-type'), what).toMatch(/^application\/json/);
      expect(stream.res.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
      expect(body.errors[0]!.extensions.code, what).toBe('UNAUTHENTICATED');
      expect(body.errors[0]!.extensions.reason, what).toContain(reason);
      expect({ status: graphql.status, code: graphql.code, reason: graphql.reason }, what).toEqual({
        status: 401,
        code: body.errors[0]!.extensions.code,
        reason: body.errors[0]!.extensions.reason,
      });
    }
  });

  it('refuses a role the alerts query refuses, and a read without purpose, with the query’s code', async () => {
    for (const [what, auth, headers] of [
      ['publisher', `Bearer ${await token('WMP', { roles: ['publisher'], subject: 'pub' })}`, {}],
      ['no purpose', `Bearer ${await token('WMP')}`, { 'x-mcx-purpose': '' }],
    ] as const) {
      const stream = await openStream('WMP', auth, { headers });
      const body = (await stream.res.json()) as { errors: { extensions: { code: string; reason: string } }[] };
      const query = await postGraphQL(nodes.WMP.node.url, auth, ALERTS, {}, { ...readHeaders('WMP'), ...headers });
      expect(stream.res.status, what).toBeGreaterThanOrEqual(400);
      expect(body.errors[0]!.extensions, what).toEqual(expect.objectContaining({ code: query.code, reason: query.reason }));
    }
  });

  it('refuses a query on the stream, a request that does not ask for a stream, and a subscription on POST /graphql', async () => {
    const auth = `Bearer ${await token('WMP')}`;
    const q = await openStream('WMP', auth, { query: ALERTS });
    expect(q.res.status).toBe(400);
    expect(((await q.res.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'STREAM_SUBSCRIPTIONS_ONLY',
    });
    const plain = await openStream('WMP', auth, { headers: { accept: 'application/json' } });
    expect(plain.res.status).toBe(406);
    const bad = await openStream('WMP', auth, { query: 'subscription { alertAdded(after: -1) { id } }' });
    expect(bad.res.status).toBe(400);
    expect(((await bad.res.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    const posted = await postGraphQL(nodes.WMP.node.url, auth, 'subscription { alertAdded { id } }', {}, readHeaders('WMP'));
    expect(posted.code).toBe('BAD_USER_INPUT');
    expect(posted.reason).toBe('SUBSCRIPTION_NEEDS_STREAM');
  });
});

describe('the stream’s life', () => {
  it('ends when its token expires, saying so, so the client reconnects with a fresh one', async () => {
    const stream = await openStream('WMP', `Bearer ${await token('WMP', { ttlSec: 3, subject: 'inv-expiry' })}`, { after: 1_000_000 });
    expect(stream.res.status).toBe(200);
    await stream.ended_(6_000);
    const last = stream.events.filter((e) => e.event === 'next').at(-1)!;
    expect(last.data.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(stream.events.at(-1)!.event).toBe('complete');
  });

  it('holds one person to the per-user cap; closing a stream frees its place and, with the last, its LISTEN connection', async () => {
    const auth = `Bearer ${await token('WMP', { subject: 'inv-cap' })}`;
    const a = await openStream('WMP', auth, { after: 1_000_000 });
    const b = await openStream('WMP', auth, { after: 1_000_000 });
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    const c = await openStream('WMP', auth, { after: 1_000_000 });
    expect(c.res.status).toBe(429);
    expect(((await c.res.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      reason: 'ALERT_STREAMS_PER_USER',
    });
    // Someone else is not held to this person's cap.
    const other = await openStream('WMP', `Bearer ${await token('WMP', { subject: 'inv-other' })}`, { after: 1_000_000 });
    expect(other.res.status).toBe(200);
    expect(await streamConnections()).toBeGreaterThan(0);
    expect(await streamConnections(true)).toBe(1);
    await a.close();
    const d = await until('a place for the person again', 3_000, async () => {
      const s = await openStream('WMP', auth, { after: 1_000_000 });
      return s.res.status === 200 ? s : (await s.res.text(), null);
    });
    for (const s of [b, d, other]) await s.close();
    await until('no alert stream connection left', 3_000, async () => ((await streamConnections()) === 0 ? true : null));
  });
});

describe('every replica of a node', () => {
  let replica: TestNode;

  beforeAll(async () => {
    // A second WMP process over the same database, as a load balancer's second replica; this one polls every second.
    replica = await startTestNode({
      force: 'WMP',
      keys: fed.keys.WMP!,
      databaseUrl: nodes.WMP.databaseUrl,
      issuer: nodes.WMP.issuer,
      env: { ...fed.nodeEnv('WMP'), MCX_ALERT_STREAM_POLL_MS: '1000', MCX_TOKEN_CLOCK_TOLERANCE_SECONDS: '0' },
    });
  }, 120_000);

  afterAll(() => replica?.close());

  it('has a new alert on both replicas’ streams within 5 s, by the notification (the first replica does not poll)', async () => {
    const last = (await inboxAfter(0)).lastEventNumber;
    const auth = `Bearer ${await token('WMP', { subject: 'inv-replicas' })}`;
    const [one, two] = [await openStream('WMP', auth, { after: last }), await openStream(replica, auth, { after: last })];
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const episodeId = await openEpisode('MPS-MIS-7004');
    for (const s of [one, two])
      await until('the alert on each replica', 5_000 - (Date.now() - t0), async () =>
        s.alerts().some((a) => a.episode.id === episodeId) ? true : null,
      );
    await one.close();
    await two.close();
  });

  it('has an alert whose notification never came, by the poll', async () => {
    const last = (await inboxAfter(0)).lastEventNumber;
    const stream = await openStream(replica, `Bearer ${await token('WMP', { subject: 'inv-poll' })}`, { after: last });
    await new Promise((r) => setTimeout(r, 300));
    // Written with the trigger off: no notification at all.
    const id = await sql(async (s) => {
      const [row] = await s.begin(async (tx) => {
        await tx`alter table alert_inbox disable trigger alert_inbox_notify`;
        const [n] = await tx`update alert_event_counter set last = last + 1 returning last`;
        const body = {
          yourSubjectRefs: [REF.WMP],
          episode: {
            owner: 'MPS',
            id: crypto.randomUUID(),
            ownerReference: 'MPS-MIS-7999',
            contact24x7: null,
            riskGrade: null,
            reportedAt: null,
          },
          holders: [],
        };
        const inserted = await tx`insert into alert_inbox (id, event_number, kind, from_node, body)
          values (${crypto.randomUUID()}, ${n!.last}, 'CROSS_MATCH', 'MPS', ${tx.json(body)}) returning id`;
        await tx`alter table alert_inbox enable trigger alert_inbox_notify`;
        return inserted;
      });
      return String(row!.id);
    });
    await until('the alert by the poll', 3_000, async () => (stream.alerts().some((a) => a.id === id) ? true : null));
    await stream.close();
  });

  it('ends its open streams at once when the node closes (complete), without waiting for the grace period', async () => {
    const stream = await openStream(replica, `Bearer ${await token('WMP', { subject: 'inv-closing' })}`, { after: 1_000_000 });
    expect(stream.res.status).toBe(200);
    const t0 = Date.now();
    await replica.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    await stream.ended_(2_000);
    expect(stream.events.at(-1)?.event).toBe('complete');
  });
});
