import type { FastifyPluginAsync } from 'fastify';

import type { App } from '../app.js';
import type { Readiness } from '../modules/node/node-status-service.js';
import { exemptFromLoadShedding } from './load-shedding.js';

/** Apps whose process has been told to stop (SIGTERM/SIGINT): not ready, still serving. */
const stopping = new WeakSet<App>();

/**
 * The first step of a graceful stop: /readyz answers 503 ("shutting down") while the node still
 * serves, so a load balancer routes new requests to the other replicas before this one stops
 * listening, and every response closes its connection (server.ts) so keep-alive clients reconnect
 * through the load balancer.
 */
export function markStopping(app: App): void {
  stopping.add(app);
}

function isStopping(app: App): boolean {
  return stopping.has(app);
}

/** Why the node is not ready, for the operator reading /readyz (null when it is ready). */
export function notReadyReason(readiness: Readiness, opts: { overloaded: boolean; stopping: boolean }): string | null {
  const m = readiness.migrations;
  if (opts.stopping) return 'shutting down: requests in flight are finishing, send new ones to another replica';
  if (readiness.database === 'unreachable' || !m) return "the database does not answer the node's login";
  if (m.applied < m.expected)
    return `${m.expected - m.applied} migration${m.expected - m.applied === 1 ? ' is' : 's are'} pending: run \`mcx db migrate\` as the schema owner`;
  if (opts.overloaded) return 'overloaded: shedding load';
  return readiness.ready ? null : 'not ready';
}

/** What the operator should know although the node is ready (null when nothing). */
export function readyWarning(readiness: Readiness): string | null {
  const m = readiness.migrations;
  if (m && m.applied > m.expected)
    return `the database schema is newer than this release (${m.applied} migrations applied, ${m.expected} known): a newer release migrated it; this release keeps serving (migrations only add), finish the rollout (deploy/runbook.md, "Rollout")`;
  return null;
}

/**
 * GET /healthz (liveness) and GET /readyz (readiness), both unauthenticated and free of record data.
 *
 * Neither is shed under load. /healthz answers as long as the process can: an orchestrator that
 * restarts a node for being busy loses the requests in flight and moves the load onto the other
 * replicas. /readyz says the node is not ready (503, with a `reason`) while it is overloaded or
 * stopping, or while its database is unreachable or a migration this release knows is pending, so a
 * load balancer sends new work elsewhere (a schema a newer release migrated further is ready, with a
 * `warning`, so the old replicas serve through a rolling update); it
 * reports the database, the migrations, the manifest, integrity faults and the audit chain as they are.
 */
export const healthRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  server.get('/healthz', { config: exemptFromLoadShedding }, async () => ({ status: 'ok' }));

  server.get('/readyz', { config: exemptFromLoadShedding }, async (_request, reply) => {
    const readiness = await app.readiness();
    const overloaded = server.overloadedBy() !== null;
    const reason = notReadyReason(readiness, { overloaded, stopping: isStopping(app) });
    const body = { ...readiness, ready: reason === null, load: overloaded ? 'overloaded' : 'ok', reason, warning: readyWarning(readiness) };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
};
