/**
 * The node's metrics for Prometheus (DESIGN.md "Operations"), one registry per node. Label
 * values are fixed: operation names from the schema's root fields (else `other`), member codes
 * from the manifest, status enums. Never a caller's input, never record content.
 *
 * prom-client rather than @opentelemetry/exporter-prometheus: the node exports no OpenTelemetry
 * metrics, only traces, and prom-client gives the pull endpoint, async collect callbacks (checkpoint
 * age, outbox depth read at scrape time) and the process metrics with one small dependency and
 * no SDK meter provider to run beside the tracer.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { DbHandle } from '@mcx/db';
import { McxError } from '@mcx/errors';
import type { LinkageEvaluator } from '@mcx/linkage';
import { EVENT_LOOP_RESOLUTION_MS } from '@mcx/telemetry';

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/** What the scrape reads from the running node (structural, so this module imports no service). */
export interface MetricsSources {
  db: DbHandle;
  /** The node's pool login's application_name (services/node/src/start-node.ts). */
  applicationName: string;
  poolMax: number;
  federation: { memberHealth(): { code: string; breaker: (typeof BREAKER_STATES)[number] }[] } | null;
  audit: { fault(): unknown };
  integrity: { status(): { state: 'OK' | 'FAULT'; faultsDetected: number } };
  /** The admission gate of federated reads (services/node/src/http/federation-gate.ts). */
  admission: { load: { inFlight: number; waiting: number; turns: number } };
}

/** The label for a GraphQL operation: its root field when the schema has it, else `other`. */
export function operationLabel(schema: GraphQLSchema, operation: OperationDefinitionNode | null | undefined): string {
  if (!operation) return 'other';
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const fields = root?.getFields() ?? {};
  const names = operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : null));
  const first = names.find((n) => n !== '__typename');
  if (!first || names.some((n) => n === null || (n !== '__typename' && !Object.hasOwn(fields, n)))) return 'other';
  return first;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'mcx_graphql_requests_total',
    help: 'GraphQL operations by surface (graphql: callers; peer: member nodes), root field and outcome',
    labelNames: ['surface', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'mcx_graphql_request_duration_seconds',
    help: 'GraphQL operation latency by surface and root field',
    labelNames: ['surface', 'operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly peerResults = new Counter({
    name: 'mcx_peer_requests_total',
    help: 'Requests to member nodes by member and status (answered, refused, unavailable, timed_out, bad_data, circuit_open)',
    labelNames: ['member', 'status'] as const,
    registers: [this.registry],
  });
  private readonly peerLatency = new Histogram({
    name: 'mcx_peer_request_duration_seconds',
    help: 'Latency of requests to member nodes that were sent',
    labelNames: ['member'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 3],
    registers: [this.registry],
  });
  private readonly auditAppend = new Histogram({
    name: 'mcx_audit_append_duration_seconds',
    help: 'Audit chain append latency: the serialised insert of a batch of entries (queued or inside a write)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly linkageCalls = new Counter({
    name: 'mcx_linkage_calls_total',
    help: 'Calls to the linkage service by outcome (ok, refused: an McxError, failed: anything else)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly linkageLatency = new Histogram({
    name: 'mcx_linkage_call_duration_seconds',
    help: 'Latency of calls to the linkage service',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [this.registry],
  });

  constructor() {
    // The event-loop lag sampled every 50 ms (the resolution of @mcx/telemetry's shared sampler; prom-client keeps a sampler
    // of its own): its default, 10 ms, wakes an idle process a hundred times a second, about 6.5 ms of CPU a second on these machines.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  }

  /** Apollo plugin: one count and one latency per operation, labelled by surface and root field. */
  graphqlPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
    return {
      requestDidStart: async ({ contextValue }) => {
        const started = performance.now();
        const surface = (contextValue as { peerCall?: unknown }).peerCall ? 'peer' : 'graphql';
        let operation = 'other';
        return {
          didResolveOperation: async (rc) => {
            operation = operationLabel(rc.schema, rc.operation);
          },
          willSendResponse: async (rc) => {
            const body = rc.response.body;
            const failed = body.kind === 'single' ? (body.singleResult.errors?.length ?? 0) > 0 : false;
            this.requests.inc({ surface, operation, outcome: failed ? 'error' : 'ok' });
            this.latency.observe({ surface, operation }, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** The fan-out's onResult: the member code (from the manifest) and its status enum. */
  onPeerResult = (r: { member: string; status: string; latencyMs: number; httpStatus: number | null }): void => {
    this.peerResults.inc({ member: r.member, status: r.status });
    if (r.status !== 'circuit_open' && r.latencyMs > 0) this.peerLatency.observe({ member: r.member }, r.latencyMs / 1000);
  };

  /**
   * Times the audit store's appends: each write's own (appendInTx) and each group commit
   * (appendWithReceipts, whose locked fallback is not counted twice).
   */
  timeAuditAppends<S extends { appendInTx(...args: never[]): Promise<unknown>; appendWithReceipts(...args: never[]): Promise<unknown> }>(
    store: S,
  ): S {
    const histogram = this.auditAppend;
    const timed =
      (append: (...args: unknown[]) => Promise<unknown>) =>
      async (...args: unknown[]) => {
        const end = histogram.startTimer();
        try {
          return await append(...args);
        } finally {
          end();
        }
      };
    Object.assign(store, {
      appendInTx: timed(store.appendInTx.bind(store) as (...args: unknown[]) => Promise<unknown>),
      appendWithReceipts: timed(store.appendWithReceipts.bind(store) as (...args: unknown[]) => Promise<unknown>),
    });
    return store;
  }

  /** The linkage evaluator, counted and timed. */
  linkage(evaluator: LinkageEvaluator): LinkageEvaluator {
    return {
      evaluate: async (blinded) => {
        const end = this.linkageLatency.startTimer();
        try {
          const result = await evaluator.evaluate(blinded);
          this.linkageCalls.inc({ outcome: 'ok' });
          return result;
        } catch (err) {
          this.linkageCalls.inc({ outcome: err instanceof McxError ? 'refused' : 'failed' });
          throw err;
        } finally {
          end();
        }
      },
    };
  }

  /** The gauges read at scrape time from the running node. */
  bind(sources: MetricsSources): void {
    registerScrapeGauges(this.registry, sources);
  }
}

function registerScrapeGauges(registry: Registry, s: MetricsSources): void {
  const registers = [registry];
  new Gauge({
    name: 'mcx_peer_breaker_state',
    help: "Each member's circuit breaker: 1 for its current state, 0 for the others",
    labelNames: ['member', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const m of s.federation?.memberHealth() ?? [])
        for (const state of BREAKER_STATES) this.set({ member: m.code, state }, m.breaker === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mcx_federation_admission',
    help: 'Federated reads at the admission gate: in_flight, waiting for a turn, and turns (fewer than MCX_FEDERATION_MAX_IN_FLIGHT while the event loop is busy)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const { inFlight, waiting, turns } = s.admission.load;
      this.set({ state: 'in_flight' }, inFlight);
      this.set({ state: 'waiting' }, waiting);
      this.set({ state: 'turns' }, turns);
    },
  });
  new Gauge({
    name: 'mcx_integrity_state',
    help: 'Integrity: 1 when the component is in the state (records: stored signatures; audit_chain: the hash chain)',
    labelNames: ['component', 'state'] as const,
    registers,
    collect() {
      const records = s.integrity.status().state === 'OK';
      const chain = s.audit.fault() === null;
      this.set({ component: 'records', state: 'ok' }, records ? 1 : 0);
      this.set({ component: 'records', state: 'fault' }, records ? 0 : 1);
      this.set({ component: 'audit_chain', state: 'ok' }, chain ? 1 : 0);
      this.set({ component: 'audit_chain', state: 'fault' }, chain ? 0 : 1);
    },
  });
  new Gauge({
    name: 'mcx_record_integrity_faults',
    help: 'Stored records found failing their signature check since the node started',
    registers,
    collect() {
      this.set(s.integrity.status().faultsDetected);
    },
  });
  new Gauge({
    name: 'mcx_audit_checkpoint_age_seconds',
    help: 'Seconds since the latest signed audit checkpoint (NaN before the first)',
    registers,
    async collect() {
      const [row] = await s.db.sql<{ age: number | null }[]>`
        select extract(epoch from now() - max(created_at))::float8 as age from audit_checkpoints`;
      this.set(row?.age ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'mcx_db_pool_max',
    help: "The node's database pool size (MCX_DB_POOL_MAX)",
    registers,
    collect() {
      this.set(s.poolMax);
    },
  });
  new Gauge({
    name: 'mcx_db_connections',
    help: "Open database connections of this force's node login by state (every replica's, as PostgreSQL sees them)",
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const rows = await s.db.sql<{ state: string; n: number }[]>`
        select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
        where application_name = ${s.applicationName} group by 1`;
      this.reset();
      for (const state of ['active', 'idle', 'idle in transaction']) this.set({ state }, 0);
      for (const r of rows) if (['active', 'idle', 'idle in transaction'].includes(r.state)) this.set({ state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'mcx_alert_outbox_depth',
    help: 'Alert outbox rows not yet handed to the queue (absent while the node has no alert outbox table)',
    registers,
    async collect() {
      this.reset();
      const [exists] = await s.db.sql<{ t: string | null }[]>`select to_regclass('public.alert_outbox')::text as t`;
      if (!exists?.t) return;
      const [row] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from alert_outbox where enqueued_at is null`;
      this.set(row?.n ?? 0);
    },
  });
}
