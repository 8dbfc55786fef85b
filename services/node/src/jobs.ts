/** The node's timed jobs: the audit checkpoint and the sweep of spent peer-token ids. */
import type { Logger } from '@mcx/logger';

import type { PeerEndpoint } from './federation/peer-endpoint.js';
import type { AuditService } from './modules/audit/audit-service.js';

const JTI_SWEEP_MS = 60_000;

export interface Jobs {
  start(): void;
  stop(): Promise<void>;
}

export interface JobsDeps {
  audit: AuditService;
  peerEndpoint: PeerEndpoint | null;
  /** Seconds between signed audit checkpoints; 0 turns them off. */
  auditCheckpointSeconds: number;
  logger: Logger;
  /** The alert queue's worker (services/node/src/modules/alerts/alert-worker.ts); null when alerts are off. */
  alerts?: { start(): Promise<void>; stop(): Promise<void> } | null;
}

/**
 * A job run every `ms`, on timers that never keep the process alive on their own. Its first run
 * comes between one period and one and a half after the start, at random, then one every period:
 * nodes started together (in one process for the tests, the demo and the benchmarks) do not all
 * verify their audit chains in the same instant. Ten did, and held their shared event loop for
 * about 450 ms once a minute. `stop()` clears the timer and waits for a run in progress.
 */
function every(ms: number, run: () => Promise<unknown>): { stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    running ??= run().finally(() => (running = null));
  };
  let timer: NodeJS.Timeout = setTimeout(
    () => {
      timer = setInterval(tick, ms).unref();
      tick();
    },
    ms + Math.random() * (ms / 2),
  ).unref();
  return {
    stop: async () => {
      clearTimeout(timer);
      await running;
    },
  };
}

export function createJobs({ audit, peerEndpoint, auditCheckpointSeconds, logger, alerts }: JobsDeps): Jobs {
  const timers: { stop(): Promise<void> }[] = [];
  let alertsStarted: Promise<void> | null = null;
  return {
    start() {
      if (auditCheckpointSeconds > 0) {
        const checkpoint = () => audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'audit checkpoint failed'));
        timers.push(every(auditCheckpointSeconds * 1000, checkpoint));
      }
      if (peerEndpoint) {
        const sweep = () => peerEndpoint.sweep().catch((err: unknown) => logger.error({ err }, 'peer token sweep failed'));
        timers.push(every(JTI_SWEEP_MS, sweep));
      }
      if (alerts) alertsStarted = alerts.start().catch((err: unknown) => logger.error({ err }, 'alert queue worker did not start'));
    },
    async stop() {
      await Promise.all(timers.splice(0).map((timer) => timer.stop()));
      if (alerts && alertsStarted) {
        await alertsStarted;
        await alerts.stop();
      }
    },
  };
}
