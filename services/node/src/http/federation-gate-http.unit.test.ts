// The admission gate at the HTTP edge: a turn is held while a federated read runs, whoever hangs up,
// and a read whose client has gone before its turn came is never run. A real Fastify server on
// loopback, a /graphql route whose reads end when the test says so.
import { connect } from 'node:net';

import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { registerFederationGate, releaseTurn, type AdmissionGate } from './federation-gate.js';

let server: FastifyInstance;
let gate: AdmissionGate;
let url: string;
/** Reads running: each ends when its resolver is called. */
let running: (() => void)[];
let handled: number;
/** Whether the route gives its turn back when its read ends (the node's /graphql route does). */
let releases: boolean;

beforeEach(async () => {
  running = [];
  handled = 0;
  releases = true;
  // Keep-alive connections the test client left open are cut at close, not waited for.
  server = Fastify({ forceCloseConnections: true });
  gate = registerFederationGate(
    server,
    { maxInFlight: 1, minInFlight: 1, maxQueued: 1, queueWaitMs: 10_000, retryAfterSeconds: 7 },
    { releaseAfterCloseMs: 400 },
  );
  server.route({
    method: ['GET', 'POST'],
    url: '/graphql',
    handler: async (request) => {
      handled += 1;
      try {
        await new Promise<void>((resolve) => running.push(resolve));
      } finally {
        if (releases) releaseTurn(request);
      }
      return { data: { ok: true } };
    },
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/graphql`;
});

afterEach(async () => {
  for (const end of running) end();
  await server.close();
});

const read = (signal?: AbortSignal) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ federatedEpisodes { strong { id } } }' }),
    ...(signal ? { signal } : {}),
  });
const hungUp = (p: Promise<unknown>) => p.catch((err: Error) => err.name);

describe('the federation gate at the HTTP edge', () => {
  it('a read whose client hangs up while it waits for a turn is never run, and takes no turn', async () => {
    const first = read();
    await vi.waitFor(() => expect(handled).toBe(1));
    const client = new AbortController();
    const gone = hungUp(read(client.signal));
    await vi.waitFor(() => expect(gate.load.waiting).toBe(1));
    client.abort();
    expect(await gone).toBe('AbortError');
    await vi.waitFor(() => expect(gate.load.waiting).toBe(0));
    running.shift()!();
    expect((await first).status).toBe(200);
    await vi.waitFor(() => expect(gate.load.inFlight).toBe(0));
    // The next read has the turn at once; the one whose client had gone never ran.
    const next = read();
    await vi.waitFor(() => expect(handled).toBe(2));
    running.shift()!();
    expect((await next).status).toBe(200);
  });

  it('a read whose client hangs up while it runs keeps its turn until the read ends', async () => {
    const client = new AbortController();
    const gone = hungUp(read(client.signal));
    await vi.waitFor(() => expect(handled).toBe(1));
    client.abort();
    expect(await gone).toBe('AbortError');
    const next = read();
    await vi.waitFor(() => expect(gate.load.waiting).toBe(1));
    await new Promise((r) => setTimeout(r, 100));
    // Still running: the turn is still its, and the next read still waits.
    expect(gate.load).toMatchObject({ inFlight: 1, waiting: 1 });
    expect(handled).toBe(1);
    running.shift()!();
    await vi.waitFor(() => expect(handled).toBe(2));
    running.shift()!();
    expect((await next).status).toBe(200);
    await vi.waitFor(() => expect(gate.load).toMatchObject({ inFlight: 0, waiting: 0 }));
  });

  it('a turn whose read never says it ended is given back a bounded time after its client hung up', async () => {
    releases = false;
    const client = new AbortController();
    const gone = hungUp(read(client.signal));
    await vi.waitFor(() => expect(handled).toBe(1));
    client.abort();
    await gone;
    expect(gate.load.inFlight).toBe(1);
    await vi.waitFor(() => expect(gate.load.inFlight).toBe(0), { timeout: 2000 });
  });

  it('past the queue, a read is refused at once: 503, Retry-After, FEDERATION_BUSY', async () => {
    const first = read();
    await vi.waitFor(() => expect(handled).toBe(1));
    const queued = read();
    await vi.waitFor(() => expect(gate.load.waiting).toBe(1));
    const refused = await read();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(JSON.stringify(await refused.json())).toContain('FEDERATION_BUSY');
    running.shift()!();
    await vi.waitFor(() => expect(handled).toBe(2));
    running.shift()!();
    expect([(await first).status, (await queued).status]).toEqual([200, 200]);
    await vi.waitFor(() => expect(gate.load).toMatchObject({ inFlight: 0, waiting: 0 }));
  });

  it('a GET whose document spells the field with percent-escapes, beside one bad escape, is still a federated read', async () => {
    const first = read();
    await vi.waitFor(() => expect(handled).toBe(1));
    // Fastify leaves the whole value undecoded for the bad escape; Apollo would decode the rest and run federatedEpisodes.
    const disguised = fetch(`${url}?query=%7B%20%66ederatedEpisodes%20%7D%20%23%zz`);
    await vi.waitFor(() => expect(gate.load.waiting).toBe(1));
    expect(handled).toBe(1);
    running.shift()!();
    await vi.waitFor(() => expect(handled).toBe(2));
    running.shift()!();
    expect([(await first).status, (await disguised).status]).toEqual([200, 200]);
  });

  it('reads pipelined on one connection that hangs up while they wait leave the queue and are never run', async () => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.on('error', () => undefined);
    const body = JSON.stringify({ query: '{ federatedEpisodes { strong { id } } }' });
    const request = `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    socket.write(request + request + request);
    await vi.waitFor(() => expect(handled).toBe(1));
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await vi.waitFor(() => expect(gate.load.waiting).toBe(0));
    running.shift()!();
    await vi.waitFor(() => expect(gate.load.inFlight).toBe(0));
    await new Promise((r) => setTimeout(r, 100));
    expect(handled).toBe(1);
  });
});
