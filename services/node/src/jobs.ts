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
 * A timer that never keeps the process alive on its own. Its first run comes at a random point of
 * the first period, then one every period: nodes started together (in one process for the tests,
 * the demo and the benchmarks) do not all verify their audit chains in the same instant. Ten did,
 * and held their shared event loop for about 450 ms once a minute.
 */
function every(ms: number, run: () => void): { stop(): void } {
  let timer: NodeJS.Timeout = setTimeout(() => {
    timer = setInterval(run, ms).unref();
    run();
  }, Math.random() * ms).unref();
  return { stop: () => clearTimeout(timer) };
}

export function createJobs({ audit, peerEndpoint, auditCheckpointSeconds, logger, alerts }: JobsDeps): Jobs {
  const timers: { stop(): void }[] = [];
  let alertsStarted: Promise<void> | null = null;
  return {
    start() {
      if (auditCheckpointSeconds > 0) {
        const checkpoint = () => audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'audit checkpoint failed'));
        timers.push(every(auditCheckpointSeconds * 1000, () => void checkpoint()));
      }
      if (peerEndpoint) {
        const sweep = () => peerEndpoint.sweep().catch((err: unknown) => logger.error({ err }, 'peer token sweep failed'));
        timers.push(every(JTI_SWEEP_MS, () => void sweep()));
      }
      if (alerts) alertsStarted = alerts.start().catch((err: unknown) => logger.error({ err }, 'alert queue worker did not start'));
    },
    async stop() {
      for (const timer of timers.splice(0)) timer.stop();
      if (alerts && alertsStarted) {
        await alertsStarted;
        await alerts.stop();
      }
    },
  };
}
