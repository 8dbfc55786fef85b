/**
 * Load shedding at the edge: while the process is overloaded (its event loop late on average, its
 * event loop busy, its heap or resident memory past a bound), every request is refused before any
 * token is verified or body read: 503, SERVICE_UNAVAILABLE, reason OVERLOADED, with Retry-After.
 * /healthz and /readyz are let through (`exemptFromLoadShedding`); /readyz says the node is
 * overloaded, so a load balancer sends new work elsewhere. A bound set to 0 is not checked.
 *
 * This replaces @fastify/under-pressure, which did the same with a sampler of its own that fires
 * every 10 ms whatever it is configured to check: about 6.5 ms of CPU a second on an idle node
 * here. The figures come from the process's one shared sampler (@mcx/telemetry's event-loop
 * monitor), over its last half-second window.
 */
import type { FastifyInstance } from 'fastify';

import { ErrorCode } from '@mcx/errors';
import { acquireEventLoopMonitor, type EventLoopFigures } from '@mcx/telemetry';

import type { Config } from '../config.js';
import { HttpRefusal } from './refusals.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False: the route is served while the node sheds load (health and readiness). */
    loadShedding?: boolean;
  }
  interface FastifyInstance {
    /** Which bound the process is past now, or null when it is not overloaded. */
    overloadedBy(): OverloadReason | null;
  }
}

/** Lets a route through while the node sheds load. */
export const exemptFromLoadShedding = { loadShedding: false };

export type OverloadReason = 'EVENT_LOOP_DELAY' | 'EVENT_LOOP_UTILIZATION' | 'HEAP_USED' | 'RSS';

type PressureBounds = Config['http']['pressure'];

/** The first bound (of those set) the figures are past, or null. */
export function overloadReason(f: EventLoopFigures, bounds: PressureBounds): OverloadReason | null {
  if (bounds.maxEventLoopDelayMs > 0 && f.meanDelayMs > bounds.maxEventLoopDelayMs) return 'EVENT_LOOP_DELAY';
  if (bounds.maxHeapUsedBytes > 0 && f.heapUsedBytes > bounds.maxHeapUsedBytes) return 'HEAP_USED';
  if (bounds.maxRssBytes > 0 && f.rssBytes > bounds.maxRssBytes) return 'RSS';
  if (bounds.maxEventLoopUtilization > 0 && f.utilization > bounds.maxEventLoopUtilization) return 'EVENT_LOOP_UTILIZATION';
  return null;
}

/** Registers the shedding hook (first of the onRequest hooks after the request log) and `server.overloadedBy()`. */
export function registerLoadShedding(server: FastifyInstance, bounds: PressureBounds): void {
  const monitor = acquireEventLoopMonitor();
  server.addHook('onClose', async () => monitor.release());
  const overloadedBy = () => overloadReason(monitor.figures(), bounds);
  server.decorate('overloadedBy', overloadedBy);
  const anyBound = bounds.maxEventLoopDelayMs + bounds.maxEventLoopUtilization + bounds.maxHeapUsedBytes + bounds.maxRssBytes > 0;
  if (!anyBound) return;
  const retryAfter = String(bounds.retryAfterSeconds);
  server.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.loadShedding === false || overloadedBy() === null) return done();
    void reply.header('retry-after', retryAfter);
    done(new HttpRefusal(503, ErrorCode.SERVICE_UNAVAILABLE, 'the node is overloaded; retry after the time in Retry-After', 'OVERLOADED'));
  });
}
