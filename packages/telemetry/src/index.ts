// @mcx/telemetry: one OpenTelemetry trace per federated query across nodes (W3C traceparent),
// one global provider per process shared by every in-process node; spans name their node in `mcx.node`.

export {
  NODE_ATTRIBUTE,
  TRACER_NAME,
  initTelemetry,
  withSpan,
  withNode,
  injectTraceHeaders,
  withIncomingContext,
  currentTraceId,
  addSpanEvent,
} from './telemetry.js';
export type { TelemetryOptions, Telemetry, FinishedSpan, SpanKindName, SpanAttributes, SpanOptions } from './telemetry.js';
export { EVENT_LOOP_RESOLUTION_MS, acquireEventLoopMonitor } from './event-loop.js';
export type { EventLoopFigures, EventLoopMonitor } from './event-loop.js';
