import { migrationStatus, type DbHandle } from '@mcx/db';

import type { FederationClient } from '../../federation/federation-client.js';
import type { Trust } from '../../federation/trust.js';
import type { NodeKeys } from '../../keys.js';
import type { AuditService } from '../audit/audit-service.js';
import type { IntegrityMonitor } from '../records/record-integrity.js';
import { kindToGraphql } from '../records/record-kind.js';

/** How long /readyz waits for the database before it reports it unreachable. */
const READINESS_DB_TIMEOUT_MS = 2000;

/**
 * What /readyz reports: ready only with the database reachable and every migration this release
 * knows applied. A schema a newer release has migrated further is still ready: migrations only add
 * (deploy/runbook.md, "Rollout"), so this release keeps serving through a rolling update.
 */
export interface Readiness {
  ready: boolean;
  database: 'reachable' | 'unreachable';
  migrations: { applied: number; expected: number } | null;
  manifest: ReturnType<Trust['describe']> | null;
  integrity: { state: string; faultsDetected: number; lastFaultAt: string | null };
  audit: string;
}

export interface NodeStatusServiceDeps {
  forceCode: string;
  env: string;
  db: DbHandle;
  keys: NodeKeys;
  trust: Trust | null;
  integrity: IntegrityMonitor;
  audit: AuditService;
}

/** A member's row: its breaker, the median of its latest latencies, and how its latest calls ended. */
function memberRow(m: ReturnType<FederationClient['memberHealth']>[number]) {
  const latencies = m.recent.map((r) => r.latencyMs).sort((a, b) => a - b);
  const counts = new Map<string, number>();
  for (const r of m.recent) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return {
    member: m.code,
    endpoint: m.endpoint,
    capabilities: m.capabilities,
    breaker: m.breaker,
    recentLatencyMs: latencies.length ? latencies[Math.floor(latencies.length / 2)]! : null,
    recentStatuses: [...counts].map(([status, count]) => ({ status, count })),
  };
}

/** What the node says of itself: to its operators (nodeStatus, with the faulty records named) and to /readyz (counts only). */
export class NodeStatusService {
  constructor(private readonly deps: NodeStatusServiceDeps) {}

  get forceCode(): string {
    return this.deps.forceCode;
  }

  /** The node's keys, manifest, migrations, integrity faults and members (an operator's view). */
  async status(federation: FederationClient | null = null) {
    const { forceCode, env, db, keys, trust, integrity } = this.deps;
    const migrations = await migrationStatus(db.sql);
    const manifest = trust?.describe() ?? null;
    const { recent, ...counts } = integrity.status();
    return {
      force: forceCode,
      environment: env,
      keys: [keys.record, keys.peerToken, keys.auditCheckpoint].map((k) => ({ job: k.job, kid: k.kid })),
      manifestVersion: manifest?.version ?? null,
      manifestStatus: manifest?.status ?? null,
      migrationsApplied: migrations.applied,
      migrationsExpected: migrations.expected,
      integrity: { ...counts, recent: recent.map((f) => ({ ...f, kind: kindToGraphql(f.kind) })) },
      manifestExpiresAt: trust?.holder.manifest?.validUntil ?? null,
      members: (federation?.memberHealth() ?? []).map(memberRow),
    };
  }

  /**
   * Readiness. Integrity faults are shown, never a reason to stop serving: the faulty records are
   * withheld. Counts only here (the endpoint is unauthenticated); nodeStatus names the records.
   */
  async readiness(): Promise<Readiness> {
    const manifest = this.deps.trust ? this.deps.trust.describe() : null;
    const { state, faultsDetected, lastFaultAt } = this.deps.integrity.status();
    const integrity = { state, faultsDetected, lastFaultAt };
    const status = await this.migrations();
    const base = { manifest, integrity, audit: this.deps.audit.readiness() };
    if (!status) return { ready: false, database: 'unreachable', migrations: null, ...base };
    return {
      ready: status.applied >= status.expected,
      database: 'reachable',
      migrations: { applied: status.applied, expected: status.expected },
      ...base,
    };
  }

  /** A query that fails or hangs is an unreachable database (null), never "reachable" with 0 migrations. */
  private async migrations(): Promise<Awaited<ReturnType<typeof migrationStatus>> | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('readiness query timed out')), READINESS_DB_TIMEOUT_MS)),
      );
      return await Promise.race([migrationStatus(this.deps.db.sql), timeout]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
