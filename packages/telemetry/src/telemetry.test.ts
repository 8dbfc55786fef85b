import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  addSpanEvent,
  currentTraceId,
  initTelemetry,
  injectTraceHeaders,
  withIncomingContext,
  withNode,
  withSpan,
  type FinishedSpan,
  type Telemetry,
} from './telemetry.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

/** What the test servers answer: the trace they saw and the traceparent they were sent. */
interface Answer {
  traceId: string | null;
  traceparent: string | null;
  leakedTraceId?: string | null;
}

/** The parts of an OTLP/JSON trace export the tests read. */
interface OtlpJson {
  resourceSpans: Array<{
    resource: { attributes: unknown[] };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; kind: number; attributes: unknown[] }> }>;
  }>;
}

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CodedError';
  }
}

/** A loopback server; `handler` answers with a JSON body. */
async function startServer(handler: (req: IncomingMessage) => Promise<Answer>): Promise<{ server: Server; url: string }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    handler(req).then(
      (answer) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
}

/** GET `url` with `headers`; resolves with the status and parsed JSON body. */
function get(url: string, headers: Record<string, string | string[]>): Promise<{ status: number; answer: Answer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, answer: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' ? value : null;
}

/** The peer node: answers inside its own server span, ending the span before the response is sent. */
function peerAnswer(req: IncomingMessage): Promise<Answer> {
  return withNode('LAS', () =>
    withIncomingContext(req.headers, () =>
      withSpan('peer.answer', { kind: 'server', attributes: { 'mcx.records': 1 } }, async () => ({
        traceId: currentTraceId(),
        traceparent: header(req.headers, 'traceparent'),
      })),
    ),
  );
}

function only(spans: ReadonlyArray<FinishedSpan>, name: string): FinishedSpan[] {
  return spans.filter((s) => s.name === name);
}

describe('before initTelemetry', () => {
  it('runs everything as a no-op that never throws', async () => {
    const headers = injectTraceHeaders({ accept: 'application/json' });
    expect(headers).toEqual({ accept: 'application/json' });

    const inside = await withSpan('query', { kind: 'client', attributes: { 'mcx.peers': 2 } }, async (span) => ({
      traceId: currentTraceId(),
      recording: span.isRecording(),
      injected: injectTraceHeaders({}),
    }));
    expect(inside).toEqual({ traceId: null, recording: false, injected: {} });

    const remote = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    expect(withIncomingContext(remote, () => currentTraceId())).toBeNull();
    expect(withIncomingContext({ traceparent: 'garbage' }, () => 42)).toBe(42);

    const failure = new CodedError('PEER_DOWN', 'peer down');
    await expect(withSpan('failing', {}, async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(currentTraceId()).toBeNull();
  });
});

describe('one federated query across nodes (memory exporter)', () => {
  let telemetry: Telemetry;
  let peer: { server: Server; url: string };

  beforeAll(async () => {
    telemetry = initTelemetry({ serviceName: 'mcx-test', exporter: 'memory' });
    peer = await startServer(peerAnswer);
  });
  afterAll(async () => {
    await stopServer(peer.server);
  });
  beforeEach(() => telemetry.reset());

  it('is one trace: peer calls under the root, each peer answer under its call', async () => {
    const { rootTraceId, answers } = await withNode('WMP', () =>
      withSpan('query', { attributes: { 'mcx.peers': 2 } }, async () => ({
        rootTraceId: currentTraceId(),
        answers: await Promise.all(
          ['LAS', 'LAS'].map((code) =>
            withSpan('peer.call', { kind: 'client', attributes: { 'mcx.peer': code } }, () => get(peer.url, injectTraceHeaders({}))),
          ),
        ),
      })),
    );

    const spans = telemetry.finishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['peer.answer', 'peer.answer', 'peer.call', 'peer.call', 'query']);
    const [root] = only(spans, 'query');
    const calls = only(spans, 'peer.call');
    const served = only(spans, 'peer.answer');
    if (root === undefined) throw new Error('no root span');

    expect(rootTraceId).toMatch(TRACE_ID);
    expect(root.traceId).toBe(rootTraceId);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([rootTraceId]));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.answer.traceId)).toEqual([rootTraceId, rootTraceId]);

    expect(root.parentSpanId).toBeNull();
    for (const call of calls) expect(call.parentSpanId).toBe(root.spanId);
    expect(served.map((s) => s.parentSpanId).sort()).toEqual(calls.map((c) => c.spanId).sort());
    expect(answers.map((a) => a.answer.traceparent).sort()).toEqual(calls.map((c) => `00-${c.traceId}-${c.spanId}-01`).sort());
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(5);

    expect(root).toMatchObject({ kind: 'internal', status: 'unset', attributes: { 'mcx.node': 'WMP', 'mcx.peers': 2 } });
    for (const call of calls)
      expect(call).toMatchObject({ kind: 'client', status: 'unset', attributes: { 'mcx.node': 'WMP', 'mcx.peer': 'LAS' } });
    for (const s of served)
      expect(s).toMatchObject({ kind: 'server', status: 'unset', attributes: { 'mcx.node': 'LAS', 'mcx.records': 1 } });
    for (const s of spans) expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(root.durationMs).toBeGreaterThanOrEqual(Math.max(...calls.map((c) => c.durationMs)));
  });

  it('records an error by code only, sets status error, ends the span and rethrows', async () => {
    const failure = new CodedError('PEER_DOWN', 'no answer about Olivia Hart');
    let seen: Span | undefined;
    await expect(
      withSpan('peer.call', { kind: 'client' }, async (span) => {
        seen = span;
        await sleep(1);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const syncFailure = new TypeError('bad input Olivia Hart');
    await expect(
      withSpan('sync', {}, (): Promise<never> => {
        throw syncFailure;
      }),
    ).rejects.toBe(syncFailure);

    const [call, sync] = telemetry.finishedSpans();
    expect(call).toMatchObject({ name: 'peer.call', status: 'error', kind: 'client' });
    expect(sync).toMatchObject({ name: 'sync', status: 'error' });
    const readable = seen as unknown as ReadableSpan;
    expect(readable.ended).toBe(true);
    expect(readable.status).toEqual({ code: 2, message: 'PEER_DOWN' });
    expect(readable.events.map((e) => [e.name, e.attributes])).toEqual([['exception', { 'exception.type': 'PEER_DOWN' }]]);
    expect(JSON.stringify(readable.events)).not.toContain('Olivia');
  });

  it('adds events with codes to the active span, shows them on finished spans, and does nothing outside a span', async () => {
    addSpanEvent('outside', { code: 'IGNORED' });
    await withSpan('request', {}, async () => {
      addSpanEvent('mcx.graphql.error', { code: 'BAD_USER_INPUT', line: 1, column: 9 });
    });
    const failure = new CodedError('PEER_DOWN', 'no answer about Olivia Hart');
    await expect(
      withSpan('peer.call', {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const [request, call] = telemetry.finishedSpans();
    expect(request?.events).toEqual([{ name: 'mcx.graphql.error', attributes: { code: 'BAD_USER_INPUT', line: 1, column: 9 } }]);
    expect(call?.events).toEqual([{ name: 'exception', attributes: { 'exception.type': 'PEER_DOWN' } }]);
    expect(JSON.stringify(telemetry.finishedSpans())).not.toContain('Olivia');
  });

  it('knows the active trace id inside a span, keeps it across awaits, and has none outside', async () => {
    expect(currentTraceId()).toBeNull();
    const [a, b] = await Promise.all(
      [5, 1].map((ms) =>
        withSpan('root', {}, async (span) => {
          const before = currentTraceId();
          await sleep(ms);
          const nested = await withSpan('child', {}, async () => currentTraceId());
          return { own: span.spanContext().traceId, before, after: currentTraceId(), nested };
        }),
      ),
    );
    expect(currentTraceId()).toBeNull();
    if (a === undefined || b === undefined) throw new Error('missing result');
    expect(a.own).toMatch(TRACE_ID);
    expect(a).toEqual({ own: a.own, before: a.own, after: a.own, nested: a.own });
    expect(b).toEqual({ own: b.own, before: b.own, after: b.own, nested: b.own });
    expect(a.own).not.toBe(b.own);
  });

  it("keeps only a caller's traceparent: its tracestate and baggage reach no span and no peer", async () => {
    const headers = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'mcx=ZebedeeQ60,nhs=9990001060',
      baggage: 'child=ZebedeeQ61',
    };
    const sent = await withIncomingContext(headers, () => withSpan('served', { kind: 'server' }, async () => injectTraceHeaders({})));
    expect(sent.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(JSON.stringify(sent)).not.toMatch(/Zebedee|9990001060/);
  });

  it('starts a new trace when the traceparent is malformed, instead of throwing or joining the caller', async () => {
    const malformed: Array<string | string[]> = [
      'garbage',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
      ['garbage', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ];
    const callerTraceId = await withSpan('query', {}, async () => {
      for (const traceparent of malformed) {
        const { status, answer } = await get(peer.url, { traceparent, tracestate: 'x=1' });
        expect(status).toBe(200);
        expect(answer.traceId).toMatch(TRACE_ID);
        expect(answer.traceId).not.toBe(currentTraceId());
      }
      return currentTraceId();
    });

    const served = only(telemetry.finishedSpans(), 'peer.answer');
    expect(served).toHaveLength(malformed.length);
    for (const s of served) expect(s.parentSpanId).toBeNull();
    expect(new Set(served.map((s) => s.traceId)).size).toBe(malformed.length);
    expect(served.map((s) => s.traceId)).not.toContain(callerTraceId);
  });

  it('does not let a span active when listen() was called become the parent of incoming requests', async () => {
    // Node runs a server's request handler in the async context in which listen() was called.
    let bootTraceId: string | null = null;
    const booted = await withSpan('boot', {}, async () => {
      bootTraceId = currentTraceId();
      return startServer(async (req) => ({ leakedTraceId: currentTraceId(), ...(await peerAnswer(req)) }));
    });
    try {
      const { answer } = await get(booted.url, {});
      expect(bootTraceId).toMatch(TRACE_ID);
      expect(answer.leakedTraceId).toBe(bootTraceId); // the premise: outside withIncomingContext the boot span leaks
      expect(answer.traceId).toMatch(TRACE_ID);
      expect(answer.traceId).not.toBe(bootTraceId);
      const [served] = only(telemetry.finishedSpans(), 'peer.answer');
      expect(served?.parentSpanId).toBeNull();
    } finally {
      await stopServer(booted.server);
    }
  });

  it('lets an explicit mcx.node attribute win over withNode, and leaves it out when neither is given', async () => {
    await withNode('WMP', () => withSpan('relay', { attributes: { 'mcx.node': 'BTP', ok: true } }, async () => undefined));
    await withSpan('anonymous', {}, async () => undefined);
    const [relay, anonymous] = telemetry.finishedSpans();
    expect(relay?.attributes).toEqual({ 'mcx.node': 'BTP', ok: true });
    expect(anonymous?.attributes).toEqual({});
  });

  it('is initialised once: a second call, even with another exporter, returns the first Telemetry', async () => {
    const again = initTelemetry({ serviceName: 'other', exporter: 'none' });
    expect(again).toBe(telemetry);
    expect(again.options).toEqual({ serviceName: 'mcx-test', exporter: 'memory' });
    const resource = await withSpan('probe', {}, async (span) => (span as unknown as ReadableSpan).resource.attributes['service.name']);
    expect(resource).toBe('mcx-test');
    expect(telemetry.finishedSpans().map((s) => s.name)).toEqual(['probe']);
    telemetry.reset();
    expect(telemetry.finishedSpans()).toEqual([]);
  });
});

describe('shutdown and the other exporters', () => {
  it('keeps memory spans after shutdown, uninstalls the globals, and lets initTelemetry start afresh', async () => {
    const memory = initTelemetry({ serviceName: 'mcx-test', exporter: 'memory' });
    await withSpan('last', {}, async () => undefined);
    await memory.shutdown();
    await memory.shutdown();
    expect(memory.finishedSpans().map((s) => s.name)).toEqual(['last']);
    expect(await withSpan('after', {}, async () => currentTraceId())).toBeNull();
    expect(injectTraceHeaders({})).toEqual({});

    // exporter 'none': nothing kept, but trace context still flows to peers.
    const none = initTelemetry({ serviceName: 'mcx-test', exporter: 'none' });
    expect(none).not.toBe(memory);
    const peer = await startServer(peerAnswer);
    try {
      const { traceId, answer } = await withSpan('query', {}, async () => ({
        traceId: currentTraceId(),
        answer: (await get(peer.url, injectTraceHeaders({}))).answer,
      }));
      expect(traceId).toMatch(TRACE_ID);
      expect(answer.traceId).toBe(traceId);
      expect(answer.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(none.finishedSpans()).toEqual([]);
    } finally {
      await stopServer(peer.server);
      await none.shutdown();
    }
  });

  it('exports to an OTLP/HTTP endpoint and flushes on shutdown', async () => {
    const received: Array<{ url: string | undefined; type: string | undefined; body: Buffer }> = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const { port } = collector.address() as AddressInfo;
    try {
      const otlp = initTelemetry({ serviceName: 'mcx-otlp-test', exporter: 'otlp', otlpEndpoint: `http://127.0.0.1:${port}/v1/traces` });
      const traceId = await withNode('WMP', () => withSpan('peer.call', { kind: 'client' }, async () => currentTraceId()));
      expect(received).toEqual([]); // batched, not sent yet
      await otlp.shutdown();
      expect(otlp.finishedSpans()).toEqual([]);
      expect(traceId).toMatch(TRACE_ID);
      expect(received).toHaveLength(1);
      const [post] = received;
      expect(post?.url).toBe('/v1/traces');
      expect(post?.type).toBe('application/json');
      const body = JSON.parse(post?.body.toString('utf8') ?? '') as OtlpJson;
      expect(body.resourceSpans).toHaveLength(1);
      const [resourceSpans] = body.resourceSpans;
      expect(resourceSpans?.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'mcx-otlp-test' } });
      const exported = resourceSpans?.scopeSpans.flatMap((scope) => scope.spans);
      expect(exported?.map((s) => [s.name, s.traceId, s.kind])).toEqual([['peer.call', traceId, 3]]);
      expect(exported?.[0]?.attributes).toEqual([{ key: 'mcx.node', value: { stringValue: 'WMP' } }]);
    } finally {
      await stopServer(collector);
    }
  });
});
