/**
 * The alert streams' hub over a real PostgreSQL: a notification on mcx_alert_inbox (migration
 * 0016) wakes every open stream, the poll wakes them when none comes, the caps hold, a token's
 * expiry ends its stream, and closing the last stream frees the LISTEN connection, the poll and
 * every expiry timer.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freshMigratedDatabase } from '@mcx/db/testing';
import { McxError } from '@mcx/errors';
import { createLogger } from '@mcx/logger';

import { AlertStreamHub } from '../../services/node/src/modules/alerts/alert-stream-hub.js';

let url: string;
let owner: postgres.Sql;

beforeAll(async () => {
  url = await freshMigratedDatabase('mcx_stream_hub');
  owner = postgres(url, { max: 1, onnotice: () => {} });
});

afterAll(() => owner?.end({ timeout: 5 }));

const hubOf = (o: { pollMs?: number; maxStreams?: number; maxPerUser?: number; now?: () => number } = {}) =>
  new AlertStreamHub({
    forceCode: 'HUB',
    databaseUrl: url,
    role: null,
    prepare: true,
    pollMs: o.pollMs ?? 60_000,
    maxStreams: o.maxStreams ?? 10,
    maxPerUser: o.maxPerUser ?? 10,
    opensPerMinute: 6,
    openBurst: 2,
    logger: createLogger({ level: 'silent' }),
    ...(o.now ? { now: o.now } : {}),
  });

const connections = async () =>
  Number((await owner`select count(*)::int as n from pg_stat_activity where application_name = 'mcx-alert-stream-HUB'`)[0]!.n);

async function insertAlert(forUser: string | null = null): Promise<number> {
  return owner.begin(async (tx) => {
    const [n] = await tx`update alert_event_counter set last = last + 1 returning last`;
    const body = { yourSubjectRefs: [], episode: { owner: 'MPS', id: crypto.randomUUID() }, holders: [] };
    await tx`insert into alert_inbox (id, event_number, kind, from_node, body, for_user)
             values (${crypto.randomUUID()}, ${n!.last}, ${forUser ? 'WATCH' : 'CROSS_MATCH'}, 'MPS', ${tx.json(body)}, ${forUser})`;
    return Number(n!.last);
  });
}

const U1 = { user: 'https://login.example u1', everyone: false };

const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);

describe('the alert stream hub', () => {
  it('wakes every open stream on an inbox insert, by the notification alone', async () => {
    const hub = hubOf();
    const [a, b] = [hub.open('u1', null), hub.open('u2', null)];
    await hub.settled();
    expect(hub.stats()).toEqual({ streams: 2, connected: true, polling: true });
    const [va, vb] = [a.version, b.version];
    await insertAlert();
    await within(2_000, Promise.all([a.wait(va), b.wait(vb)]));
    expect(a.version).toBeGreaterThan(va);
    expect(await hub.lastEventNumber(U1)).toBeGreaterThanOrEqual(1);
    await hub.close();
  });

  it('wakes them on the poll when no notification comes', async () => {
    const hub = hubOf({ pollMs: 200 });
    const a = hub.open('u1', null);
    await hub.settled();
    const v = a.version;
    await within(1_000, a.wait(v));
    await hub.close();
  });

  it('holds the caps per person and per node, and frees a place when a stream closes', async () => {
    const hub = hubOf({ maxStreams: 3, maxPerUser: 2 });
    const held = [hub.open('u1', null), hub.open('u1', null)];
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof McxError ? err.code : 'not an McxError';
      }
      return 'opened';
    };
    expect(refused(() => hub.open('u1', null))).toBe('ALERT_STREAMS_PER_USER');
    held.push(hub.open('u2', null));
    expect(refused(() => hub.open('u3', null))).toBe('ALERT_STREAMS_PER_NODE');
    held[0]!.close();
    held[0]!.close(); // Twice changes nothing.
    expect(hub.stats().streams).toBe(2);
    held.push(hub.open('u1', null));
    await hub.close();
  });

  it('ends a stream at its token’s expiry, and a closed stream’s expiry timer never fires', async () => {
    const hub = hubOf();
    try {
      const expiring = hub.open('u1', Date.now() + 300);
      const closed = hub.open('u2', Date.now() + 300);
      closed.close();
      // Other wakes (the LISTEN opening) may come first: each is waited past until the expiry.
      await within(
        2_000,
        (async () => {
          while (!expiring.expired) await expiring.wait(expiring.version);
        })(),
      );
      await new Promise((r) => setTimeout(r, 400));
      expect(closed.expired).toBe(false);
    } finally {
      await hub.close();
    }
  });

  it('frees the LISTEN connection and the poll with the last stream, and opens them again with the next', async () => {
    const hub = hubOf();
    const a = hub.open('u1', null);
    await hub.settled();
    await hub.lastEventNumber(U1);
    expect(await connections()).toBeGreaterThan(0);
    a.close();
    await hub.settled();
    expect(hub.stats()).toEqual({ streams: 0, connected: false, polling: false });
    await expect.poll(connections, { timeout: 3_000 }).toBe(0);
    const b = hub.open('u1', null);
    await hub.settled();
    const v = b.version;
    await insertAlert();
    await within(2_000, b.wait(v));
    await hub.close();
    expect(hub.stats()).toEqual({ streams: 0, connected: false, polling: false });
    await expect.poll(connections, { timeout: 3_000 }).toBe(0);
  });

  it('counts, for a reader, only the alerts it may see: another person’s WATCH alert is not past its cursor', async () => {
    const hub = hubOf();
    const a = hub.open('u1', null);
    await hub.settled();
    const node = await insertAlert();
    const mine = await insertAlert(U1.user);
    const theirs = await insertAlert('https://login.example u2');
    expect(await hub.lastEventNumber(U1)).toBe(mine);
    expect(await hub.lastEventNumber({ user: 'https://login.example u3', everyone: false })).toBe(node);
    expect(await hub.lastEventNumber({ user: 'https://login.example u3', everyone: true })).toBe(theirs);
    a.close();
    await hub.close();
  });

  it('lets one person open streams at the bucket’s rate: its burst at once, then one each refill', () => {
    let now = 1_000_000;
    const hub = hubOf({ now: () => now });
    // Burst 2, 6 a minute: one more every 10 s.
    expect([hub.takeOpen('u1'), hub.takeOpen('u1'), hub.takeOpen('u1')]).toEqual([true, true, false]);
    expect(hub.takeOpen('u2')).toBe(true);
    expect(hub.retryAfterSeconds()).toBe(10);
    now += 9_000;
    expect(hub.takeOpen('u1')).toBe(false);
    now += 1_000;
    expect([hub.takeOpen('u1'), hub.takeOpen('u1')]).toEqual([true, false]);
  });
});
