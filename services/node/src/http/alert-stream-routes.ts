import { createRequire } from 'node:module';

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { createHandler, type Response as SseResponse } from 'graphql-sse';

import { ErrorCode, McxError } from '@mcx/errors';
import type { Logger } from '@mcx/logger';

import type { App } from '../app.js';
import type { Principal } from '../auth/access.js';
import type { Config } from '../config.js';
import { describeGraphQLError } from '../error-format.js';
import { toFormattedError } from '../error-handling.js';
import { graphqlLimits } from '../graphql-limits.js';
import { AlertStreamHub } from '../modules/alerts/alert-stream-hub.js';
import { AlertStreamErrorCode, type AlertStreamLease } from '../modules/alerts/alert-stream-model.js';
import type { AlertStreamContext } from '../modules/alerts/alert-stream-resolvers.js';
import { resolvers } from '../resolvers.js';
import { buildSchema } from '../schema.js';
import { sendEventStream, StreamPace } from './alert-stream-sse.js';
import { bearerAuthentication } from './graphql-routes.js';
import { sendRefusal } from './refusals.js';

// graphql as @apollo/subgraph loads it (CommonJS), which built the schema: one copy of graphql-js
// for parse, validate and subscribe, whichever module format this file was loaded as.
const { getOperationAST, parse, specifiedRules, subscribe, validate } = createRequire(import.meta.url)(
  'graphql',
) as typeof import('graphql');

/** One request's state, shared by graphql-sse's hooks: its context, the streams it opened, the last event number sent. */
interface StreamState {
  request: FastifyRequest;
  principal: Principal;
  context: AlertStreamContext | null;
  leases: AlertStreamLease[];
  lastSent: number | null;
  /** The catch-up stopped at its cap at the event just sent. */
  truncated: boolean;
  pace: StreamPace;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** The HTTP status of a refusal, by its GraphQL code (and, for the stream caps, its reason). */
function statusOf(error: GraphQLFormattedError): number {
  const { code, reason } = (error.extensions ?? {}) as { code?: string; reason?: string };
  if (reason === AlertStreamErrorCode.ALERT_STREAMS_PER_USER) return 429;
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.SERVICE_UNAVAILABLE:
    case ErrorCode.AUDIT_UNAVAILABLE:
      return 503;
    case ErrorCode.INTERNAL_SERVER_ERROR:
      return 500;
    default:
      return 400;
  }
}

/** Errors as the node words them everywhere (error-format.ts): never the caller's input, never an internal message. */
function describe(errors: readonly unknown[], schema: GraphQLSchema, document: DocumentNode | null, code?: string) {
  return errors.map((e) => toFormattedError(describeGraphQLError(e, { schema, document }, code)));
}

function refusal(errors: GraphQLFormattedError[]): SseResponse {
  return [JSON.stringify({ errors }), { status: statusOf(errors[0]!), statusText: 'Refused', headers: JSON_TYPE }];
}

/** A token's end, in ms: the earlier of the caller's and a forwarded user's. */
function expiryOf(principal: Principal): number | null {
  const exps = [principal.claims.exp, principal.forwarded?.claims.exp].filter((e): e is number => typeof e === 'number');
  return exps.length > 0 ? Math.min(...exps) * 1000 : null;
}

function lastEventIdOf(request: FastifyRequest): number | null {
  const v = request.headers['last-event-id'];
  return typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : null;
}

/**
 * POST /graphql/stream: GraphQL over Server-Sent Events (graphql-sse, distinct connections), for
 * subscriptions only (Subscription.alertAdded). The bearer token is verified from the headers as on
 * /graphql, with the same refusals; the document is parsed and validated with /graphql's limits,
 * and the subscription's guard and caps run, before any stream opens: a refusal is a plain JSON
 * answer with its status. Each replica's streams share one LISTEN connection (AlertStreamHub).
 */
export const alertStreamRoutes: FastifyPluginAsync<{ app: App; config: Config; databaseUrl: string | null }> = async (
  server,
  { app, config, databaseUrl },
) => {
  const schema = buildSchema(resolvers);
  const limits = graphqlLimits(config.graphql);
  const rules = [...specifiedRules, ...limits.validationRules];
  const settings = config.alerts.stream;
  const url = databaseUrl ?? config.databaseUrl;
  const hub = url
    ? new AlertStreamHub({
        forceCode: config.forceCode,
        databaseUrl: url,
        role: config.dbRole,
        prepare: config.dbPrepare,
        pollMs: settings.pollMs,
        maxStreams: settings.maxStreams,
        maxPerUser: settings.maxPerUser,
        opensPerMinute: settings.opensPerMinute,
        openBurst: settings.openBurst,
        logger: server.log as Logger,
      })
    : null;
  // Before the server stops listening and waits for open requests: every stream ends at once,
  // with its complete event, and its connection goes idle (the hook is the root's: see below).
  server.addHook('preClose', async () => hub?.close());
  const source = (request: FastifyRequest) => request.socket.remoteAddress ?? 'unknown';

  const handler = createHandler<FastifyRequest, StreamState, Record<PropertyKey, unknown>>({
    schema,
    // No stream tokens: each subscription is its own connection (graphql-sse's distinct connection mode).
    authenticate: () => null,
    // onSubscribe validates, with the node's limits, before anything is sent.
    validate: () => [],
    context: (req) => req.context.context as unknown as Record<PropertyKey, unknown>,
    onSubscribe: async (req, params) => {
      const state = req.context;
      let document: DocumentNode;
      try {
        document = parse(params.query, limits.parseOptions);
      } catch (err) {
        return refusal(describe([err], schema, null, ErrorCode.GRAPHQL_PARSE_FAILED));
      }
      const invalid = validate(schema, document, rules);
      if (invalid.length > 0) return refusal(describe(invalid, schema, document, ErrorCode.GRAPHQL_VALIDATION_FAILED));
      const operation = getOperationAST(document, params.operationName);
      if (operation && operation.operation !== 'subscription')
        return refusal([
          {
            message: 'This address serves subscriptions only: send queries and mutations to POST /graphql',
            extensions: { code: ErrorCode.BAD_USER_INPUT, reason: AlertStreamErrorCode.STREAM_SUBSCRIPTIONS_ONLY },
          },
        ]);
      const { request, principal } = state;
      const base = app.graphqlContext({
        requestId: request.id,
        logger: request.log as Logger,
        principal,
        headers: request.headers,
        source: source(request),
      });
      const context: AlertStreamContext = {
        ...base,
        alertStream: {
          open: (user) => {
            if (!hub) throw new McxError(AlertStreamErrorCode.ALERT_STREAMS_PER_NODE, 'this node serves no alert stream');
            const lease = hub.open(user, expiryOf(principal));
            state.leases.push(lease);
            return lease;
          },
          lastEventNumber: (reader) => hub!.lastEventNumber(reader),
          ready: () => state.pace.ready(),
          catchUp: settings.catchUp,
          lastEventId: lastEventIdOf(request),
          sent: (n, truncated) => {
            state.lastSent = n;
            state.truncated = truncated === true;
            state.pace.queue();
          },
        },
      };
      state.context = context;
      const result = await subscribe({
        schema,
        document,
        contextValue: context,
        variableValues: params.variables ?? null,
        operationName: params.operationName ?? null,
      });
      if (Symbol.asyncIterator in result) return result;
      return refusal(describe((result as ExecutionResult).errors ?? [], schema, document));
    },
    onNext: (_ctx, req, result) => {
      const r = result as ExecutionResult;
      const state = req.context;
      if (r.errors?.length) return { data: null, errors: describe(r.errors as GraphQLError[], schema, null) as never };
      // The event number this alert went out with, for the SSE `id:` and a client that did not select it,
      // and, on the catch-up's last when more are there, that the rest is to be read with alerts(after:).
      if (state.lastSent === null) return r;
      const extensions = { ...r.extensions, eventNumber: state.lastSent, ...(state.truncated ? { catchUpTruncated: true } : {}) };
      return { ...r, extensions };
    },
  });

  const authenticate = bearerAuthentication(app);

  server.route({
    method: 'POST',
    url: '/graphql/stream',
    config: { errorShape: 'graphql' },
    onRequest: authenticate,
    handler: async (request, reply) => {
      if (!String(request.headers.accept ?? '').includes('text/event-stream'))
        return sendRefusal(
          reply,
          {
            statusCode: 406,
            code: 'BAD_REQUEST',
            message: 'Ask for text/event-stream: this address answers with a stream of Server-Sent Events',
            reason: AlertStreamErrorCode.STREAM_NOT_ACCEPTED,
          },
          'graphql',
        );
      const b = request.body as { query?: unknown; variables?: unknown; operationName?: unknown } | null;
      const vars = b?.variables;
      if (
        typeof b?.query !== 'string' ||
        (vars != null && (typeof vars !== 'object' || Array.isArray(vars))) ||
        (b.operationName != null && typeof b.operationName !== 'string')
      )
        return sendRefusal(
          reply,
          {
            statusCode: 400,
            code: 'BAD_REQUEST',
            message: 'Send a JSON object with the subscription as `query`, and `variables` as an object',
            reason: AlertStreamErrorCode.STREAM_REQUEST_INVALID,
          },
          'graphql',
        );
      const principal = request.principal!;
      // Opens per person, before any work: a token bucket per issuer and subject.
      if (hub && !hub.takeOpen(`${principal.viewer.issuer} ${principal.viewer.subject}`)) {
        void reply.header('retry-after', String(hub.retryAfterSeconds()));
        return sendRefusal(
          reply,
          {
            statusCode: 429,
            code: ErrorCode.SERVICE_UNAVAILABLE,
            message: 'You have opened alert streams too often: wait a moment before opening another',
            reason: AlertStreamErrorCode.ALERT_STREAM_OPEN_RATE,
          },
          'graphql',
        );
      }
      const state: StreamState = {
        request,
        principal,
        context: null,
        leases: [],
        lastSent: null,
        truncated: false,
        pace: new StreamPace(),
      };
      const [body, init] = await handler({
        method: 'POST',
        url: request.url,
        headers: {
          get: (key) => {
            if (key === 'accept') return 'text/event-stream';
            const v = request.headers[key.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
        },
        body: (request.body ?? null) as Record<PropertyKey, unknown> | null,
        raw: request,
        context: state,
      });
      if (body === null || typeof body === 'string') {
        for (const lease of state.leases) lease.close();
        return reply
          .code(init.status)
          .headers({ ...JSON_TYPE, ...init.headers })
          .send(body ?? '');
      }
      sendEventStream(reply, body, {
        heartbeatMs: settings.heartbeatMs,
        log: request.log as Logger,
        onEnd: () => state.leases.forEach((l) => l.close()),
        pace: state.pace,
      });
      return reply;
    },
  });
};

// Not encapsulated (as fastify-plugin does it): a child context's preClose hooks never run, and
// the streams must end before the server waits for its open requests. It declares nothing else.
Object.assign(alertStreamRoutes, { [Symbol.for('skip-override')]: true });
