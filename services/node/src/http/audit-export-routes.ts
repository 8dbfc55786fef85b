import { Readable } from 'node:stream';

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';

import { ErrorCode } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import type { App } from '../app.js';
import type { Context } from '../context.js';
import { NodeErrorCode } from '../errors.js';
import { bearerAuthentication } from './graphql-routes.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

/** Exports streaming at once, per process, and never two for one auditor: each holds a database connection while it runs. */
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
 * The export's chunks, noting each time the client takes one (`taken`), and logging a failure
 * part-way at error level (its kind only: never a line of the log) before the response is cut. A
 * cut by the watchdog (`stalled`: nothing taken for the stall limit, or past the time limit) is
 * logged by the watchdog, not as a failure.
 */
async function* watched(chunks: AsyncGenerator<string>, taken: () => void, stalled: () => boolean, log: Logger): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) {
      yield chunk;
      taken();
    }
  } catch (err) {
    if (!stalled())
      // The logger keeps an error's type and code, never its message.
      log.error({ err }, 'audit export cut part-way: the client has an incomplete file');
    throw err;
  }
}

/** A streamed download for this force's auditors: its route, its audited operation, its file. */
interface Download {
  url: string;
  operation: string;
  /** The query's arguments, or why they are refused (400, before anything is audited). */
  read(query: unknown): { from: string | null } | HttpRefusal;
  /** Why well-formed arguments are refused all the same (before anything is audited), or null. */
  check?(ctx: Context, args: { from: string | null }): Promise<HttpRefusal | null>;
  /** Before the first byte, once audited (the export signs a checkpoint over its own entry). */
  prepare?(ctx: Context): Promise<void>;
  chunks(ctx: Context, args: { from: string | null }): AsyncGenerator<string>;
  filename(args: { from: string | null }): string;
}

const MEMBER = /^[A-Z0-9][A-Z0-9_-]{1,15}$/;

/**
 * GET /audit/export: the audit log as JSON Lines for `mcx audit verify`, streamed (the
 * `auditExport` field builds it whole in memory, which a long log outgrows). The entries come a
 * page at a time through one cursor, then the checkpoints, and the file ends with an `end` line
 * counting both: a file cut short has none. A checkpoint is signed over the export's own entry
 * before the entries are read, so a whole log verifies as ok.
 *
 * GET /audit/receipts?from=<member>: the receipts that member gave this node when it disclosed to
 * it (mcx-audit-receipts/2, sealed with this node's audit-checkpoint key), for that member's
 * auditors: `mcx audit verify <its export> --receipts <file> --holder-key <this node>=<pem>` checks
 * its log against them. Signed ids, hashes and checkpoints only: no entry's content.
 *
 * Both: this force's auditors only; the bearer token is checked before anything else, as on
 * /graphql. Each download is audited (an AUDIT_REVIEW consultation), committed before the first
 * byte is sent. If the database fails part-way, or nothing is taken (by the client) or given (by
 * the database) for `stallMs`, or the download has run for `maxMs` (a client that reads a little at
 * a time would otherwise hold its connection, and the snapshot that keeps vacuum from the table,
 * for as long as it likes), the response is cut (no final chunk), never ended as if whole. At most
 * MAX_CONCURRENT_EXPORTS run at once, one per auditor, whichever route. No HEAD: it would read
 * everything for nothing.
 */
export const auditExportRoutes: FastifyPluginAsync<{ app: App; stallMs: number; maxMs: number }> = async (
  server,
  { app, stallMs, maxMs },
) => {
  /** The auditors (issuer and subject) whose download is running: taken before any wait, so a burst cannot pass the cap. */
  const running = new Set<string>();

  async function handle(download: Download, request: FastifyRequest, reply: FastifyReply) {
    const log = request.log as Logger;
    const ctx = app.graphqlContext({
      requestId: request.id,
      logger: log,
      principal: request.principal,
      headers: request.headers,
      source: request.socket.remoteAddress ?? 'unknown',
    });
    let viewer;
    try {
      viewer = await ctx.access.require('audit.read', download.operation);
    } catch (err) {
      return sendRefusal(reply, refusalOf(err), 'plain');
    }
    const args = download.read(request.query);
    if (args instanceof HttpRefusal) return sendRefusal(reply, args, 'plain');
    let refused: HttpRefusal | null | undefined;
    try {
      refused = await download.check?.(ctx, args);
    } catch (err) {
      // The store could not be read to check: unavailable now, as the audited part would be, not a fault of the request.
      // The logger keeps an error's type, code (its SQLSTATE here) and frames, never its message.
      log.error({ err, route: download.url }, 'audit store unreadable');
      void reply.header('retry-after', String(RETRY_AFTER_SEC));
      refused = new HttpRefusal(503, ErrorCode.AUDIT_UNAVAILABLE, 'the audit store cannot be read now; retry later');
    }
    if (refused) return sendRefusal(reply, refused, 'plain');
    const who = `${viewer.issuer ?? ''}\n${viewer.subject}`;
    if (running.size >= MAX_CONCURRENT_EXPORTS || running.has(who)) {
      void reply.header('retry-after', String(RETRY_AFTER_SEC));
      const message = running.has(who) ? 'your export is still running; retry once it ends' : 'other exports are running; retry later';
      return sendRefusal(reply, new HttpRefusal(503, NodeErrorCode.EXPORT_BUSY, message), 'plain');
    }
    running.add(who);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running.delete(who);
    };
    let body: Readable | null = null;
    try {
      const queryIds = args.from ? [`from:${args.from}`] : [];
      await ctx.auditRead({ viewer, requestingNode: null, purpose: 'AUDIT_REVIEW', caseRef: null }, download.operation, queryIds, []);
      await download.prepare?.(ctx);
      const started = performance.now();
      let lastTaken = started;
      let stalled = false;
      const stream = Readable.from(
        watched(
          download.chunks(ctx, args),
          () => (lastTaken = performance.now()),
          () => stalled,
          log,
        ),
        { objectMode: false },
      );
      // A client that takes nothing, or a database that gives nothing, for stallMs, or a download still
      // running after maxMs: the response is cut at once. The turn comes back when the stream has closed,
      // with its database connection: a query waiting on the database is left to end (cancelling it
      // could, a moment late, cancel whatever runs next on that pooled connection), so at most
      // MAX_CONCURRENT_EXPORTS connections are ever held.
      const watchdog = setInterval(
        () => {
          const now = performance.now();
          const overdue = now - started >= maxMs;
          if (now - lastTaken < stallMs && !overdue) return;
          stalled = true;
          clearInterval(watchdog);
          // The route names which download (the export or the receipts): the messages are the export's, as the runbook has them.
          if (overdue) log.warn({ route: download.url, maxMs }, 'audit export cut: it ran past its time limit');
          else log.warn({ route: download.url, stallMs }, 'audit export cut: nothing taken for the stall limit');
          stream.destroy(new Error('audit export stalled'));
          reply.raw.destroy();
        },
        Math.min(stallMs, maxMs, 5000),
      );
      watchdog.unref();
      stream.once('close', () => {
        clearInterval(watchdog);
        release();
      });
      body = stream;
    } catch (err) {
      return sendRefusal(reply, refusalOf(err), 'plain');
    } finally {
      if (body === null) release();
    }
    return reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="${download.filename(args)}"`)
      .header('cache-control', 'no-store')
      .send(body);
  }

  const downloads: Download[] = [
    {
      url: '/audit/export',
      operation: 'auditExport',
      read: () => ({ from: null }),
      // A checkpoint over the export's own entry, so a whole log exported verifies as ok, not as unverified.
      // A chain found broken signs nothing (and raises the fault): the file then shows the break.
      prepare: async (ctx) => {
        await ctx.services.audit.checkpoint().catch(() => undefined);
      },
      chunks: (ctx) => ctx.services.audit.exportChunks(),
      filename: () => `audit-${app.forceCode}.jsonl`,
    },
    {
      url: '/audit/receipts',
      operation: 'auditReceipts',
      read: (query) => {
        const { from, ...rest } = (query ?? {}) as Record<string, unknown>;
        if (typeof from !== 'string' || !MEMBER.test(from) || Object.keys(rest).length > 0)
          return HttpRefusal.badRequest('MEMBER_INVALID', 'give one member code: /audit/receipts?from=<member>');
        if (from === app.forceCode) return HttpRefusal.badRequest('MEMBER_IS_SELF', 'the receipts a node gives itself witness nothing');
        return { from };
      },
      // A code with no receipt behind it (a typo, a force that is no member, a member never asked)
      // would otherwise download as an empty file, which tells the auditor nothing about why.
      check: async (ctx, { from }) => {
        if (await ctx.services.audit.views.holdsReceiptsFrom(from!)) return null;
        const member = app.trust?.holder.member(from!) !== undefined;
        return member
          ? new HttpRefusal(
              404,
              ErrorCode.NOT_FOUND,
              `this node holds no receipt from ${from}: it has asked ${from} nothing yet`,
              'NO_RECEIPTS',
            )
          : new HttpRefusal(
              404,
              ErrorCode.NOT_FOUND,
              `${from} is no member of the federation, and this node holds no receipt from it`,
              'MEMBER_UNKNOWN',
            );
      },
      chunks: (ctx, { from }) => ctx.services.audit.receiptChunks(from!),
      filename: ({ from }) => `receipts-${from}-held-by-${app.forceCode}.jsonl`,
    },
  ];
  for (const download of downloads)
    server.route({
      method: 'GET',
      url: download.url,
      exposeHeadRoute: false,
      config: { errorShape: 'plain' },
      onRequest: bearerAuthentication(app, 'plain'),
      handler: (request, reply) => handle(download, request, reply),
    });
};
