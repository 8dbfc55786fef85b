/**
 * One event-loop sampler per process, shared by whatever needs to know whether the process is
 * late: the HTTP edge's load shedding and the fan-out's check that a timeout was the caller's own
 * fault. Every in-process node (tests, benchmarks, the demo) shares it too.
 *
 * Each sampler is a timer that wakes the process. On these machines a wake costs enough to show in
 * an idle node's CPU: @fastify/under-pressure's fixed 10 ms sampler alone was about 6.5 ms of CPU a
 * second, and each further sampler added its own wakes. One sampler at RESOLUTION_MS costs about
 * a third of that, whatever the number of nodes in the process.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

/**
 * How often the sampler fires (ms). A stall is seen up to this much shorter than it was; a load
 * shedding threshold (1 s by default) or a fan-out's lag bound (200 ms) is far above it.
 */
export const EVENT_LOOP_RESOLUTION_MS = 50;
/** How long one window of figures lasts (ms): the figures read are those of the last closed window. */
const WINDOW_MS = 500;

export interface EventLoopFigures {
  /** Mean delay of the loop over the last window (ms), net of the sampler's own period; Infinity if nothing was sampled. */
  meanDelayMs: number;
  /** The longest interval between the sampler's firings over the last 0.5 to 1 s (ms). */
  recentMaxMs: number;
  /** Share of the last window the loop spent busy (0 to 1). */
  utilization: number;
  heapUsedBytes: number;
  rssBytes: number;
}

export interface EventLoopMonitor {
  figures(): EventLoopFigures;
  /** Gives the monitor back; the sampler stops when nobody holds it. */
  release(): void;
}

interface Shared {
  histogram: IntervalHistogram;
  timer: NodeJS.Timeout;
  users: number;
  last: Omit<EventLoopFigures, 'recentMaxMs'> & { maxMs: number };
  elu: ReturnType<typeof performance.eventLoopUtilization>;
}

let shared: Shared | null = null;

function start(): Shared {
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  const memory = process.memoryUsage();
  const s: Shared = {
    histogram,
    users: 0,
    elu: performance.eventLoopUtilization(),
    last: { meanDelayMs: 0, maxMs: 0, utilization: 0, heapUsedBytes: memory.heapUsed, rssBytes: memory.rss },
    timer: setInterval(() => {
      const mean = histogram.mean / 1e6;
      const now = performance.eventLoopUtilization();
      const mem = process.memoryUsage();
      s.last = {
        meanDelayMs: Number.isNaN(mean) ? Infinity : Math.max(0, mean - EVENT_LOOP_RESOLUTION_MS),
        maxMs: histogram.max / 1e6,
        utilization: performance.eventLoopUtilization(now, s.elu).utilization,
        heapUsedBytes: mem.heapUsed,
        rssBytes: mem.rss,
      };
      s.elu = now;
      histogram.reset();
    }, WINDOW_MS),
  };
  s.timer.unref();
  return s;
}

/** Takes a hold on the process's event-loop sampler (starting it if nobody holds it). */
export function acquireEventLoopMonitor(): EventLoopMonitor {
  const s = (shared ??= start());
  s.users += 1;
  let released = false;
  return {
    figures: () => {
      const { maxMs, ...rest } = s.last;
      return { ...rest, recentMaxMs: Math.max(maxMs, s.histogram.max / 1e6) };
    },
    release: () => {
      if (released) return;
      released = true;
      s.users -= 1;
      if (s.users > 0 || shared !== s) return;
      clearInterval(s.timer);
      s.histogram.disable();
      shared = null;
    },
  };
}
