/** The node's timed jobs: the audit checkpoint and the sweep of spent peer-token ids. */
import type { Logger } from '@mcx/logger';

import type { PeerEndpoint } from './federation/peer-endpoint.js';
import type { AuditService } from './modules/audit/audit-service.js';

const JTI_SWEEP_MS = 60_000;

export interface Jobs {
  start(): void;
  stop(): void;
}

export interface JobsDeps {
  audit: AuditService;
  peerEndpoint: PeerEndpoint | null;
  /** Seconds between signed audit checkpoints; 0 turns them off. */
  auditCheckpointSeconds: number;
  logger: Logger;
}

/** A timer that never keeps the process alive on its own. */
function every(ms: number, run: () => void): NodeJS.Timeout {
  const timer = setInterval(run, ms);
  timer.unref();
  return timer;
}

export function createJobs({ audit, peerEndpoint, auditCheckpointSeconds, logger }: JobsDeps): Jobs {
  const timers: NodeJS.Timeout[] = [];
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
    },
    stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
    },
  };
}
