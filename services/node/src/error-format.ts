import { ErrorCode } from '@mcx/errors';

import { syntaxError, validationError } from './error-format-document.js';
import { isVariableError, variableError } from './error-format-variables.js';
import { known, knownPath, NAME, shape, type DescribeContext, type SafeError } from './safe-error.js';

/** Codes of errors the node raises itself, with messages written as fixed text (never quoting input). */
const OWN_CODES = new Set<string>([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.AUDIT_UNAVAILABLE,
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.NOT_FOUND,
]);

// A stable code, or codes joined by ":" (NOT_DISCLOSABLE:GRADE_E).
const CODE_LIKE = /^(?=.{1,64}$)[A-Z][A-Z0-9_]*(:[A-Z][A-Z0-9_]*)*$/;

// ---------------------------------------------------------------------------------------------
// Apollo Server's own request errors.

const OPERATION_RESOLUTION: Array<[RegExp, string, string]> = [
  [/^Unknown operation named "/, 'UNKNOWN_OPERATION', 'The document has no operation with the name given in operationName'],
  [
    /^Must provide operation name if query contains multiple operations\.$/,
    'OPERATION_NAME_REQUIRED',
    'The document has several operations: operationName must name one',
  ],
  [/^Must provide an operation\.$/, 'NO_OPERATION', 'The document has no operation'],
];

/** Apollo Server's messages for malformed HTTP requests: fixed text, or the name of one of its own parameters. */
const BAD_REQUEST = [
  /^The '(query|variables|operationName|extensions)' search parameter may only be specified once\.$/,
  /^The (variables|extensions) search parameter (contains invalid JSON|should contain a JSON-encoded object)\.$/,
  /^GraphQL queries must be strings\./,
  /^POST body missing, invalid Content-Type, or JSON object has no keys\.$/,
  /^`(variables|extensions)` in a POST body (should be provided as an object, not a recursively JSON-encoded string|must be an object if provided)\.$/,
  /^`operationName` in a POST body must be a string if provided\.$/,
  /^GET requests may not have a content-type header other than application\/json\.$/,
  /^Apollo Server supports only GET\/POST requests\.$/,
  /^An 'accept' header was provided for this request which does not accept /,
  /^Apollo server received an operation that uses incremental delivery/,
  /^This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)\./,
  /^GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension\.$/,
  /^GET requests only support query operations, not (mutation|subscription) operations$/,
  /^request body is not valid JSON$/,
];

// ---------------------------------------------------------------------------------------------

function responsePath(path: ReadonlyArray<string | number> | undefined, ctx: DescribeContext): (string | number)[] | undefined {
  if (!path) return undefined;
  // A response key is an alias when the caller chose one: shown only when it is a schema name.
  return path.map((s) => (typeof s === 'number' || known(s, ctx) ? s : '(alias)'));
}

/**
 * Describes any error the GraphQL layer produced or received, from its structure: graphql-js's
 * syntax, validation and variable coercion errors, Apollo Server's request errors, and the
 * node's own (whose messages are fixed text). Anything else is the node's own fault.
 */
export function describeGraphQLError(error: unknown, ctx: DescribeContext, formattedCode?: string): SafeError {
  const e = shape(error);
  const own = e?.extensions?.code;
  const code = typeof own === 'string' ? own : (formattedCode ?? ErrorCode.INTERNAL_SERVER_ERROR);
  const locations = e?.locations
    ?.filter((l) => Number.isInteger(l?.line) && Number.isInteger(l?.column))
    .map((l) => ({ line: l.line, column: l.column }));
  const located = locations && locations.length > 0 ? locations : undefined;
  const path = responsePath(e?.path, ctx);
  const internal: SafeError = {
    code: ErrorCode.INTERNAL_SERVER_ERROR,
    message: 'Internal server error',
    ...(path ? { path } : {}),
    internal: true,
  };
  if (e === null) return internal;
  // graphql-js gives up after 50 bad variable values with an error of no code and no location.
  if (e.message === 'Too many errors processing variables, error limit reached. Execution aborted.') {
    return {
      code: ErrorCode.BAD_USER_INPUT,
      reason: 'TOO_MANY_ERRORS',
      message: 'Too many invalid variable values: the request was not run.',
      internal: false,
    };
  }
  switch (code) {
    case ErrorCode.GRAPHQL_PARSE_FAILED:
      return syntaxError(e, located);
    case ErrorCode.GRAPHQL_VALIDATION_FAILED:
      return validationError(e, located, ctx);
    case 'OPERATION_RESOLUTION_FAILURE': {
      const [, reason, message] = OPERATION_RESOLUTION.find(([re]) => re.test(e.message)) ?? [
        null,
        'OPERATION_NOT_RESOLVED',
        'The operation to run could not be determined',
      ];
      return { code, reason, message: `${message}.`, internal: false };
    }
    case 'BAD_REQUEST':
      return {
        code,
        message: BAD_REQUEST.some((re) => re.test(e.message)) ? e.message : 'The request is not a valid GraphQL request.',
        internal: false,
      };
    case 'PERSISTED_QUERY_NOT_FOUND':
      return { code, message: 'PersistedQueryNotFound', internal: false };
    case 'PERSISTED_QUERY_NOT_SUPPORTED':
      return { code, message: 'PersistedQueryNotSupported', internal: false };
  }
  if (code === ErrorCode.BAD_USER_INPUT && isVariableError(e)) return variableError(e, located, ctx);
  if (!OWN_CODES.has(code)) return internal;
  const reason = e.extensions?.reason;
  const field = e.extensions?.field;
  const fieldPath =
    typeof field === 'string' && new RegExp(`^${NAME}(\\.${NAME}|\\[\\d{1,6}\\])*$`).test(field)
      ? knownPath(
          field.split(/\.|(?=\[)/).map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s)),
          ctx,
        )
      : undefined;
  return {
    code,
    message: e.message,
    ...(typeof reason === 'string' && CODE_LIKE.test(reason) ? { reason } : {}),
    ...(fieldPath ? { field: fieldPath } : {}),
    ...(located ? { locations: located } : {}),
    ...(path ? { path } : {}),
    internal: false,
  };
}
