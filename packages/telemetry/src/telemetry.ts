import type { IncomingHttpHeaders } from 'node:http';

import {
  context,
  createContextKey,
  defaultTextMapSetter,
  diag,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { hrTimeToMilliseconds, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The span attribute naming the node (its force or authority member code) that made the span. */
export const NODE_ATTRIBUTE = 'mcx.node';

/** The instrumentation scope name of every span this package starts. */
export const TRACER_NAME = '@mcx/telemetry';

/** How `initTelemetry` sets up the process-wide tracing. */
export interface TelemetryOptions {
  /** The `service.name` resource attribute, for example `mcx-node`. */
  serviceName: string;
  /**
   * Where finished spans go: `none` keeps only context propagation (spans are made, never exported);
   * `otlp` batches them to `otlpEndpoint` over OTLP/HTTP; `memory` keeps them for tests.
   */
  exporter: 'none' | 'otlp' | 'memory';
  /** The OTLP/HTTP traces URL, for example `http://collector:4318/v1/traces`. Without it the exporter's `OTEL_EXPORTER_OTLP_*` defaults apply. */
  otlpEndpoint?: string;
}

/** The kinds of span this package makes (a peer call is `client`, answering one is `server`). */
export type SpanKindName = 'internal' | 'server' | 'client';

/** A finished span, flattened for assertions in tests. */
export interface FinishedSpan {
  name: string;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** The parent's span id (possibly a remote node's), or null for a trace root. */
  parentSpanId: string | null;
  /** Producer spans are reported as `client` and consumer spans as `server`. */
  kind: SpanKindName;
  attributes: Record<string, unknown>;
  /** Events recorded on the span (exceptions, `addSpanEvent`), oldest first. */
  events: ReadonlyArray<{ name: string; attributes: Record<string, unknown> }>;
  status: 'unset' | 'ok' | 'error';
  durationMs: number;
}

/** The process-wide tracing installed by `initTelemetry`. */
export interface Telemetry {
  /** The options of the call that installed it (later calls' options are ignored). */
  readonly options: Readonly<TelemetryOptions>;
  /** Finished spans, oldest first (exporter `memory` only; [] otherwise). */
  finishedSpans(): ReadonlyArray<FinishedSpan>;
  /** Forgets the finished spans kept so far (exporter `memory`); a no-op otherwise. */
  reset(): void;
  /**
   * Flushes pending spans, shuts the provider down and uninstalls the global provider, propagator and
   * context manager, so that a later `initTelemetry` installs afresh. The spans kept by `memory` stay
   * readable through `finishedSpans()`. Tracing is per process: call this once, when the process (or
   * test suite) ends, not when one of several in-process nodes stops. Safe to call twice.
   */
  shutdown(): Promise<void>;
}

/** Attribute values a span may carry: codes, counts and ids only, never personal data. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** Options for `withSpan`. */
export interface SpanOptions {
  /** Defaults to `internal`. */
  kind?: SpanKindName;
  /**
   * Attributes set when the span starts. Pass only codes, counts and ids (member codes, error codes,
   * record counts, request ids); never a name, date of birth, address or any other personal data,
   * and never free text that could contain it. `mcx.node` here overrides the one set by `withNode`.
   */
  attributes?: SpanAttributes;
}

// One slot per process, not per module instance: a second copy of this module (another test file, a
// duplicated install) must find the Telemetry that the first copy installed.
const SLOT = Symbol.for('@mcx/telemetry');
type Slot = { [SLOT]?: Telemetry };
const NODE_KEY = createContextKey('@mcx/telemetry node');

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
};

const KIND_NAMES: Record<SpanKind, SpanKindName> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'client',
  [SpanKind.CONSUMER]: 'server',
};

const STATUS_NAMES: Record<SpanStatusCode, FinishedSpan['status']> = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
};

const incomingHeaderGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

function toFinishedSpan(span: ReadableSpan): FinishedSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    name: span.name,
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    kind: KIND_NAMES[span.kind],
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, attributes: { ...e.attributes } })),
    status: STATUS_NAMES[span.status.code],
    durationMs: hrTimeToMilliseconds(span.duration),
  };
}

function spanProcessorsFor(options: TelemetryOptions, memory: InMemorySpanExporter | null): SpanProcessor[] {
  switch (options.exporter) {
    case 'memory':
      return memory === null ? [] : [new SimpleSpanProcessor(memory)];
    case 'otlp':
      return [new BatchSpanProcessor(new OTLPTraceExporter(options.otlpEndpoint === undefined ? {} : { url: options.otlpEndpoint }))];
    case 'none':
      return [];
  }
}

/**
 * Installs the global tracer provider (resource `service.name` = `serviceName`), the W3C trace-context
 * propagator and an AsyncLocalStorage context manager, once per process. All in-process nodes share it;
 * each span names its node through `mcx.node` (see `withNode`). Calling it again returns the same
 * Telemetry, whatever the options (a differing second call is reported through `diag`, never thrown).
 * With exporter `none` trace context still flows between nodes; spans are just never exported.
 *
 * @example
 * const telemetry = initTelemetry({ serviceName: 'mcx-node', exporter: 'otlp', otlpEndpoint: 'http://collector:4318/v1/traces' });
 * process.on('SIGTERM', () => void telemetry.shutdown());
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  const slot = globalThis as Slot;
  const existing = slot[SLOT];
  if (existing !== undefined) {
    if (existing.options.exporter !== options.exporter || existing.options.serviceName !== options.serviceName) {
      diag.warn(`@mcx/telemetry: already initialised with exporter ${existing.options.exporter}; ignoring a second initTelemetry`);
    }
    return existing;
  }

  const memory = options.exporter === 'memory' ? new InMemorySpanExporter() : null;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: spanProcessorsFor(options, memory),
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const installed = [
    context.setGlobalContextManager(contextManager),
    propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    trace.setGlobalTracerProvider(provider),
  ];
  if (installed.includes(false)) diag.warn('@mcx/telemetry: another OpenTelemetry global was already registered and was kept');

  let kept: FinishedSpan[] | null = null;
  let stopping: Promise<void> | null = null;
  const telemetry: Telemetry = {
    options: Object.freeze({ ...options }),
    finishedSpans: () => kept ?? (memory === null ? [] : memory.getFinishedSpans().map(toFinishedSpan)),
    reset: () => {
      if (kept !== null) kept = [];
      memory?.reset();
    },
    shutdown: () => {
      stopping ??= (async () => {
        try {
          await provider.forceFlush();
          // InMemorySpanExporter.shutdown() forgets its spans: keep a copy for assertions made after stopping.
          kept = memory === null ? null : memory.getFinishedSpans().map(toFinishedSpan);
          await provider.shutdown();
        } finally {
          if (slot[SLOT] === telemetry) {
            trace.disable();
            propagation.disable();
            context.disable();
            delete slot[SLOT];
          }
        }
      })();
      return stopping;
    },
  };
  slot[SLOT] = telemetry;
  return telemetry;
}

function recordFailure(span: Span, error: unknown): void {
  // Only the error's type and stable code: messages and stacks may quote personal data.
  const name = error instanceof Error ? error.name : typeof error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const type = typeof code === 'string' || typeof code === 'number' ? String(code) : name;
  span.recordException({ name, code: type });
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Runs `fn` inside a new active span that is a child of the active one (or a trace root), with `kind`
 * and `attributes`, plus `mcx.node` from `withNode`. On a throw or rejection it records the error's
 * type and code (never its message), sets status error and rethrows; the span always ends. Before
 * `initTelemetry` it runs `fn` with a no-op span.
 *
 * Attributes must never carry personal data: pass only codes, counts and ids.
 *
 * @example
 * const answer = await withSpan('peer.call', { kind: 'client', attributes: { 'mcx.peer': 'LAS' } }, () =>
 *   fetch(url, { headers: injectTraceHeaders({ 'content-type': 'application/json' }) }),
 * );
 */
export async function withSpan<T>(name: string, opts: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const attributes: Attributes = {};
  const node = context.active().getValue(NODE_KEY);
  if (typeof node === 'string') attributes[NODE_ATTRIBUTE] = node;
  Object.assign(attributes, opts.attributes);
  // Look the tracer up on every call: a cached ProxyTracer would keep a provider that shutdown() removed.
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(name, { kind: KINDS[opts.kind ?? 'internal'], attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Adds an event to the active span (a no-op outside one, or before `initTelemetry`). Like span
 * attributes, an event's attributes are codes, counts and positions only: never a message, a value
 * from a request, or any personal data.
 *
 * @example
 * addSpanEvent('mcx.graphql.error', { code: 'BAD_USER_INPUT', reason: 'INVALID_VALUE', line: 1, column: 9 });
 */
export function addSpanEvent(name: string, attributes: SpanAttributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes);
}

/**
 * Runs `fn` with `nodeCode` (the member code of the node doing the work, for example `WMP`) in the
 * active context, so every span `withSpan` starts inside it carries `mcx.node`. Needed because all
 * in-process nodes share one provider and one `service.name`. The code does not cross HTTP: wrap each
 * node's request handler and its outgoing work.
 *
 * @example
 * server.on('request', (req, res) => withNode('LAS', () => withIncomingContext(req.headers, () => handle(req, res))));
 */
export function withNode<T>(nodeCode: string, fn: () => T): T {
  return context.with(context.active().setValue(NODE_KEY, nodeCode), fn);
}

/**
 * Sets `traceparent` (and `tracestate`, if any) of the active span on `headers` and returns the same
 * object. Without an active span, or before `initTelemetry`, it adds nothing.
 *
 * @example
 * await fetch(url, { method: 'POST', headers: injectTraceHeaders({ 'content-type': 'application/json' }), body });
 */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers, defaultTextMapSetter);
  return headers;
}

/**
 * Runs `fn` in the context extracted from incoming request headers, so spans started inside are
 * children of the remote caller's span. Any span already active here (for example one leaked into a
 * server's handler from the context in which `listen()` was called) is dropped first, so a request
 * without a valid `traceparent` (absent or malformed) starts a new trace instead of joining an
 * unrelated one. Other context values (such as `withNode`'s) are kept. Never throws of its own.
 *
 * @example
 * http.createServer((req, res) => withIncomingContext(req.headers, () => withSpan('peer.answer', { kind: 'server' }, () => answer(req, res))));
 */
export function withIncomingContext<T>(headers: IncomingHttpHeaders, fn: () => T): T {
  const base: Context = trace.deleteSpan(context.active());
  let extracted: Context;
  try {
    // Only `traceparent` (ids and flags): `tracestate` and `baggage` are free text from the caller,
    // and would ride on every span exported and every call to a peer.
    const traceparent = headers.traceparent;
    extracted = propagation.extract(base, (traceparent === undefined ? {} : { traceparent }) as IncomingHttpHeaders, incomingHeaderGetter);
  } catch (error) {
    diag.warn('@mcx/telemetry: could not extract trace context; starting a new trace', error instanceof Error ? error.name : typeof error);
    extracted = base;
  }
  return context.with(extracted, fn);
}

/** The trace id of the active span (32 lowercase hex digits), or null outside any valid span. */
export function currentTraceId(): string | null {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : null;
}
