import { Readable } from 'node:stream';

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';

import { ErrorCode } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import type { App } from '../app.js';
import { NodeErrorCode } from '../errors.js';
import { bearerAuthentication } from './graphql-routes.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

/** Exports streamed at once, per process: each holds a database connection while it runs. */
export const MAX_CONCURRENT_EXPORTS = 2;
const RETRY_AFTER_SEC = 30;

/** The HTTP refusal for a guard's or the audit's error (GraphQL errors with a code); anything else is thrown on. */
function refusalOf(err: unknown): HttpRefusal {
  if (!(err instanceof GraphQLError)) throw err;
  const { code, reason } = err.extensions as { code?: string; reason?: string };
  const status =
    code === ErrorCode.UNAUTHENTICATED
      ? 401
      : code === ErrorCode.FORBIDDEN
        ? 403
        : code === ErrorCode.SERVICE_UNAVAILABLE || code === ErrorCode.AUDIT_UNAVAILABLE
          ? 503
          : null;
  if (status === null) throw err;
  return new HttpRefusal(status, code!, err.message, reason);
}

/**
 * GET /audit/export: the audit log as JSON Lines for `mcx audit verify`, streamed (the
 * `auditExport` field builds it whole in memory, which a long log outgrows). Auditors only; the
 * bearer token is checked before anything else, as on /graphql. The export is audited like the
 * field (an AUDIT_REVIEW consultation, `auditExport`), committed before the first byte is sent, so
 * the export holds its own entry. The entries come a page at a time through one cursor; if the
 * database fails part-way, the response is cut (no final chunk), never ended as if whole.
 */
export const auditExportRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  let running = 0;
  server.route({
    method: 'GET',
    url: '/audit/export',
    config: { errorShape: 'plain' },
    onRequest: bearerAuthentication(app, 'plain'),
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const ctx = app.graphqlContext({
        requestId: request.id,
        logger: request.log as Logger,
        principal: request.principal,
        headers: request.headers,
        source: request.socket.remoteAddress ?? 'unknown',
      });
      try {
        const viewer = await ctx.access.require('audit.read', 'auditExport');
        if (running >= MAX_CONCURRENT_EXPORTS) {
          void reply.header('retry-after', String(RETRY_AFTER_SEC));
          return sendRefusal(reply, new HttpRefusal(503, NodeErrorCode.EXPORT_BUSY, 'other exports are running; retry later'), 'plain');
        }
        await ctx.auditRead({ viewer, requestingNode: null, purpose: 'AUDIT_REVIEW', caseRef: null }, 'auditExport', [], []);
      } catch (err) {
        return sendRefusal(reply, refusalOf(err), 'plain');
      }
      running += 1;
      const body = Readable.from(ctx.services.audit.exportChunks(), { objectMode: false });
      body.once('close', () => (running -= 1));
      return reply
        .header('content-type', 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${app.forceCode}.jsonl"`)
        .header('cache-control', 'no-store')
        .send(body);
    },
  });
};
