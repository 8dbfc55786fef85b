import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '@mcx/errors';
import { scrubMessage, type Logger } from '@mcx/logger';

// Codes whose messages are written for the caller and safe to pass on.
const PASS_THROUGH = new Set<string>([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.AUDIT_UNAVAILABLE,
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.NOT_FOUND,
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * Masks unexpected errors behind INTERNAL_SERVER_ERROR (logging the original), and scrubs
 * values that graphql-js quotes back from variables, so no child's name leaves in an error.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
    if (code && PASS_THROUGH.has(code)) {
      const extensions: Record<string, unknown> = { code };
      if (formatted.extensions?.reason) extensions.reason = formatted.extensions.reason;
      return { message: scrubMessage(formatted.message), ...(formatted.path ? { path: formatted.path } : {}), extensions };
    }
    logger.error({ err: error, code }, 'unexpected error while resolving a request');
    return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
