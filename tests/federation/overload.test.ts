/**
 * A caller past its capacity. Four real nodes on loopback: WMP admits two federated reads at a
 * time and queues one (MCX_FEDERATION_MAX_IN_FLIGHT, MCX_FEDERATION_MAX_QUEUED), MPS has short
 * peer timeouts and breakers that open after two failures; GMP and WYP hold the child. What a
 * user depends on: the excess is refused at once with 503 and Retry-After (nothing asked, nothing
 * audited), what is answered is right and honestly marked, and a healthy member is not marked
 * failed because the caller itself could not keep up.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FederatedEpisodesDocument, PublishSubjectDocument } from '@mcx/client';
import { createDb } from '@mcx/db';
import { PEER_HISTORY, PEER_OPERATIONS, PEER_PATH, peerAudience, requestHash } from '@mcx/federation';
import { signNodeToken } from '@mcx/signing';

import { JtiStore } from '../../services/node/src/federation/jti-store.js';
import { allEntries } from '../testkit/audit.js';
import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { memberRow, peerFaults, startFederation, type TestFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';

const FORCES = ['WMP', 'MPS', 'GMP', 'WYP'] as const;
type Force = (typeof FORCES)[number];
const HOLDERS = ['GMP', 'WYP'] as const;
// Synthetic: no such child exists.
const CHILD = { forename: 'Perpetua', surname: 'Vallance', dob: '2012-02-17', sex: 'FEMALE' as const, nhsNumber: '9990001502' };
const faults = peerFaults();
let fed: TestFederation;
let nodes: Record<Force, TestNode>;
let close: () => Promise<void>;

/** WMP admits two federated reads and queues one; MPS gives members 300 ms and opens a breaker after two failures. */
const NODE_ENV: Record<Force, Record<string, string>> = {
  WMP: {
    MCX_FEDERATION_MAX_IN_FLIGHT: '2',
    MCX_FEDERATION_MAX_QUEUED: '1',
    MCX_FEDERATION_QUEUE_WAIT_MS: '20000',
    MCX_FEDERATION_RETRY_AFTER_SECONDS: '3',
    MCX_PEER_TIMEOUT_MS: '8000',
    MCX_FEDERATION_DEADLINE_MS: '10000',
  },
  MPS: { MCX_PEER_TIMEOUT_MS: '300', MCX_FEDERATION_DEADLINE_MS: '600', MCX_PEER_BREAKER_FAILURES: '2' },
  GMP: {},
  WYP: {},
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds this whole process (every node in it) for `ms`, as a caller drowning in work does. */
function stall(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no callback, no timer and no socket of any node runs meanwhile
  }
}

async function federatedRead(node: TestNode, signal?: AbortSignal) {
  const token = await node.issuer.mintToken({
    role: 'investigator',
    force: node.config.forceCode,
    orgKind: 'police',
    subject: 'overload-investigator',
    kind: 'user',
    ttlSec: 120,
  });
  const res = await fetch(new URL('/graphql', node.node.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...readHeaders(node.config.forceCode) },
    body: JSON.stringify({
      query: print(FederatedEpisodesDocument),
      variables: { identity: CHILD },
    }),
    signal,
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
}

const breakers = (node: TestNode) => node.node.app.services.federation!.memberHealth().map((m) => [m.code, m.breaker]);
const gmpStatus = (r: { body: Record<string, any> }): string =>
  memberRow<{ member: string; status: string }>(r.body.data.federatedEpisodes, 'GMP').status;

beforeAll(async () => {
  ({ fed, nodes, close } = await startFederation([...FORCES], {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    // This file is about admission and breakers: the event-loop shedding of every route is off.
    env: { MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0' },
    node: (m) => ({ peerAnswerFault: faults.hook(m), env: NODE_ENV[m] }),
  }));
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  for (const force of HOLDERS) {
    const { publishSubject } = await nodes[force].client.request(PublishSubjectDocument, {
      input: { subjectRef: `SUBJ-${force}-9`, reviewAt, identity: CHILD },
    });
    expect(publishSubject.errors).toEqual([]);
    const { errors } = await publishEpisode(nodes[force].client, episodeInput({ subjectRef: `SUBJ-${force}-9` }));
    expect(errors).toEqual([]);
  }
}, 120_000);

afterAll(async () => close?.());

describe('a caller past its capacity for federated reads', () => {
  it('refuses the excess at once with 503 and Retry-After; the reads it takes are answered completely and correctly', async () => {
    const auditor = await nodes.WMP.as({ roles: ['auditor'] });
    const consultations = async () =>
      (await allEntries(auditor)).filter((e) => e.operation === 'federatedEpisodes' && e.action === 'CONSULTATION').length;
    const before = await consultations();
    // Each admitted read takes a second (WYP answers late), so all ten arrive while two are in hand.
    using _slow = faults.slow('WYP', 1000);
    const replies = await Promise.all(Array.from({ length: 10 }, () => federatedRead(nodes.WMP)));
    const refused = replies.filter((r) => r.status === 503);
    const answered = replies.filter((r) => r.status === 200);
    expect([answered.length, refused.length]).toEqual([3, 7]);
    for (const r of refused) {
      expect(r.retryAfter).toBe('3');
      expect(r.body.errors[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: 'FEDERATION_BUSY' });
      expect(r.body.data).toBeUndefined();
    }
    for (const r of answered) {
      const f = r.body.data.federatedEpisodes;
      expect(f.federation.completeness).toBe('COMPLETE');
      expect(f.strong.map((s: { episode: { owner: string } }) => s.episode.owner).sort()).toEqual([...HOLDERS]);
    }
    // A refused read asked nobody and was not audited: one consultation per answered read.
    expect((await consultations()) - before).toBe(3);
    expect(breakers(nodes.WMP).every(([, state]) => state === 'closed')).toBe(true);
    // Once the load has gone, the node takes reads again.
    const again = await federatedRead(nodes.WMP);
    expect(again.status).toBe(200);
  });

  it('a read whose client hangs up keeps its turn while its work goes on, and gives it back when that ends, not at the fallback', async () => {
    const gate = nodes.WMP.node.server.federationGate;
    // WYP answers 1.5 s late; the client hangs up after 0.4 s. The fallback (deadline 10 s + 2 s) would free the turn at about 12 s.
    using _slow = faults.slow('WYP', 1500);
    const started = performance.now();
    const controller = new AbortController();
    const read = federatedRead(nodes.WMP, controller.signal).catch((err: Error) => err.name);
    await sleep(400);
    controller.abort();
    expect(await read).toBe('AbortError');
    await sleep(300);
    expect(gate.load.inFlight).toBe(1);
    while (gate.load.inFlight > 0 && performance.now() - started < 8000) await sleep(50);
    expect(gate.load.inFlight).toBe(0);
    expect(performance.now() - started).toBeLessThan(6000);
  });

  it('a member timed out while the caller itself was stalled is marked as not answering, and its breaker stays closed', async () => {
    // GMP's answer is ready, then the whole process stalls for a second: MPS's own timers fire late.
    using _stall = faults.lie('GMP', async (answer) => {
      stall(1000);
      return answer;
    });
    for (let i = 0; i < 3; i++) {
      const r = await federatedRead(nodes.MPS);
      expect(r.status).toBe(200);
      const f = r.body.data.federatedEpisodes;
      // Honest: GMP did not answer in time, so the answer is partial and says so.
      expect(f.federation.completeness).toBe('PARTIAL');
      expect(gmpStatus(r)).toBe('TIMED_OUT');
    }
    expect(breakers(nodes.MPS)).toEqual(FORCES.map((m) => [m, 'closed']));
  });

  it('a member that is slow while the caller is not still opens its breaker', async () => {
    // Past the window the caller's own lag is judged over.
    await sleep(1500);
    using _slow = faults.slow('GMP', 1000);
    const statuses: string[] = [];
    for (let i = 0; i < 6 && !statuses.includes('CIRCUIT_OPEN'); i++) {
      statuses.push(gmpStatus(await federatedRead(nodes.MPS)));
    }
    // The node's own background asks of GMP (if any) count too, so the breaker may open after the first read.
    expect(statuses[0]).toBe('TIMED_OUT');
    expect(statuses).toContain('CIRCUIT_OPEN');
    expect(Object.fromEntries(breakers(nodes.MPS)).GMP).toBe('open');
  });

  it('one node token sent many times at once is answered once: the rest are replays, though their first uses share one insert', async () => {
    const variables = { keys: [{ kind: 'nhs', strength: 'strong', keyVersion: 'k1', key: 'A'.repeat(43) }] };
    const token = signNodeToken(
      {
        iss: 'WMP',
        aud: peerAudience('GMP'),
        ttlSec: 30,
        claims: {
          act: { sub: 'overload-investigator', iss: 'https://login.example/wmp', org: 'WMP', org_kind: 'police', role: 'investigator' },
          purpose: 'MISSING_LIVE_SEARCH',
          case_ref: 'WMP-26-9',
          caller_entry: 'WMP:1',
          req_hash: requestHash(PEER_HISTORY.hash, variables),
        },
      },
      fed.keys.WMP!.peerToken,
    );
    const replies = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const res = await fetch(new URL(PEER_PATH, nodes.GMP.node.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ id: PEER_HISTORY.hash, variables }),
        });
        return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code ?? null };
      }),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 401 && r.code === 'NODE_TOKEN_REPLAYED')).toHaveLength(11);
  });

  it('a token id twice in one group of first uses is a first use once', async () => {
    const { db, close: closeDb } = createDb(nodes.GMP.databaseUrl, { max: 2 });
    try {
      const store = new JtiStore(db);
      const expires = new Date(Date.now() + 30_000);
      // The first goes at once; the next three wait for it and go together: B, B and C in one insert.
      const uses = await Promise.all(
        ['A', 'B', 'B', 'C'].map((jti) => store.firstUse('WMP', `group-${jti}-${expires.getTime()}`, expires)),
      );
      expect(uses).toEqual([true, true, false, true]);
      // And again later: each was used before.
      expect(await store.firstUse('WMP', `group-B-${expires.getTime()}`, expires)).toBe(false);
    } finally {
      await closeDb();
    }
  });

  it("a token's use commits without waiting for its flush, seen at once elsewhere, and leaves the connection's later commits durable", async () => {
    const { db, sql, close: closeDb } = createDb(nodes.GMP.databaseUrl, { max: 1 });
    const other = createDb(nodes.GMP.databaseUrl, { max: 1 });
    try {
      // The connection's own setting, whatever the server's default: it must be the same after.
      await sql`set synchronous_commit = 'remote_write'`;
      const store = new JtiStore(db);
      const expires = new Date(Date.now() + 30_000);
      const jti = `unflushed-${expires.getTime()}`;
      expect(await store.firstUse('WMP', jti, expires)).toBe(true);
      // Another session (another replica) sees the use at once, and a replay there is refused.
      const [seen] = await other.sql<{ n: number }[]>`select count(*)::int as n from peer_token_jtis where issuer = 'WMP' and jti = ${jti}`;
      expect(seen!.n).toBe(1);
      expect(await new JtiStore(other.db).firstUse('WMP', jti, expires)).toBe(false);
      // The setting lasted only for the insert's own transaction: the audit entries this connection
      // commits next wait for their flush as before.
      const [after] = await sql<{ synchronous_commit: string }[]>`show synchronous_commit`;
      expect(after!.synchronous_commit).toBe('remote_write');
    } finally {
      await other.close();
      await closeDb();
    }
  });
});
