import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';

import type { Logger } from '@mcx/logger';
import { addSpanEvent, type SpanAttributes } from '@mcx/telemetry';

import { describeGraphQLError } from './error-format.js';
import type { SafeError } from './safe-error.js';

/** Span events per request: a request with 50 bad variable values records the first few. */
const MAX_SPAN_EVENTS = 10;

/** Apollo Server's `logger` option. */
export interface ApolloLogger {
  debug(message?: unknown): void;
  info(message?: unknown): void;
  warn(message?: unknown): void;
  error(message?: unknown): void;
}

/** How the node answers, logs and traces GraphQL errors: one description of each, three uses. */
export interface ErrorHandling {
  /** Apollo's `formatError`: the described error, never graphql-js's message. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** Learns the schema (to name what it defines) and logs and traces each error of a request. */
  plugin: ApolloServerPlugin<BaseContext>;
  /** Apollo's own log lines, keeping its leading words and dropping what it appends (an error's text). */
  apolloLogger: ApolloLogger;
}

function compact(fields: Record<string, string | number | undefined>): SpanAttributes {
  const out: SpanAttributes = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

function logFields(safe: SafeError): Record<string, unknown> {
  const first = safe.locations?.[0];
  return {
    graphqlError: {
      ...compact({
        code: safe.code,
        reason: safe.reason,
        variable: safe.variable,
        field: safe.field,
        expected: safe.expected,
        line: first?.line,
        column: first?.column,
      }),
      ...(safe.path ? { path: safe.path } : {}),
    },
  };
}

/** The answer's error: message, locations, path and extensions, all from the description. */
export function toFormattedError(safe: SafeError): GraphQLFormattedError {
  return {
    message: safe.message,
    ...(safe.locations ? { locations: safe.locations } : {}),
    ...(safe.path ? { path: safe.path } : {}),
    extensions: safe.internal
      ? { code: safe.code }
      : compact({ code: safe.code, reason: safe.reason, variable: safe.variable, field: safe.field, expected: safe.expected }),
  };
}

/** Apollo's fixed words before the first ": " or ". " (after which it appends an error's text). */
function leadingWords(message: string): string {
  const cut = message.search(/: |\. |\n/);
  return (cut === -1 ? message : message.slice(0, cut)).slice(0, 200);
}

/**
 * The node's GraphQL error handling. Every error is described once from its structure (see
 * error-format.ts): the answer, the log line and the span event carry that description, so no
 * error message, log line or span repeats a value, a name or source text the caller sent.
 * Unexpected errors are answered as INTERNAL_SERVER_ERROR and logged at error level with their
 * type, code and stack frames (never their message).
 */
export function createErrorHandling(logger: Logger): ErrorHandling {
  let schema: GraphQLSchema | null = null;
  const described = new WeakMap<object, SafeError>();

  function report(safe: SafeError, error: unknown, log: Logger): void {
    if (safe.internal) log.error({ ...logFields(safe), err: error }, 'unexpected error while handling a GraphQL request');
    else log.info(logFields(safe), safe.message);
  }

  const plugin: ApolloServerPlugin<BaseContext> = {
    async serverWillStart(service) {
      schema = service.schema;
    },
    async requestDidStart() {
      return {
        async didEncounterErrors(requestContext) {
          const context = requestContext.contextValue as { logger?: Logger } | undefined;
          const log = context?.logger ?? logger;
          requestContext.errors.forEach((error, i) => {
            const safe = describeGraphQLError(error, { schema, document: requestContext.document ?? null });
            described.set(error, safe);
            report(safe, error, log);
            if (i < MAX_SPAN_EVENTS) {
              const first = safe.locations?.[0];
              addSpanEvent(
                'mcx.graphql.error',
                compact({
                  code: safe.code,
                  reason: safe.reason,
                  field: safe.field,
                  expected: safe.expected,
                  line: first?.line,
                  column: first?.column,
                }),
              );
            }
          });
        },
      };
    },
  };

  return {
    formatError(formatted, error) {
      let safe = typeof error === 'object' && error !== null ? described.get(error) : undefined;
      if (safe === undefined) {
        // Errors from outside a request's pipeline (a malformed HTTP request, a failed context).
        const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
        safe = describeGraphQLError(error, { schema }, code);
        if (safe.internal) report(safe, error, logger);
      }
      return toFormattedError(safe);
    },
    plugin,
    apolloLogger: {
      debug: (m) => apolloLine(logger, 'debug', m),
      info: (m) => apolloLine(logger, 'info', m),
      warn: (m) => apolloLine(logger, 'warn', m),
      error: (m) => apolloLine(logger, 'error', m),
    },
  };
}

function apolloLine(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error', message: unknown): void {
  if (message instanceof Error) logger[level]({ source: 'apollo', err: message }, 'Apollo Server reported an error');
  else logger[level]({ source: 'apollo' }, leadingWords(String(message)));
}
