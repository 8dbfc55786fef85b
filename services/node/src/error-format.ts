import { Kind, type DocumentNode, type GraphQLSchema, type VariableDefinitionNode } from 'graphql';

import { ErrorCode } from '@mcx/errors';

import {
  inputFields,
  isSchemaName,
  nullable,
  printPath,
  printRef,
  refFromAst,
  refOf,
  schemaPath,
  schemaTypeString,
  walk,
  type TypeRef,
} from './schema-names.js';

/**
 * What the node says about an error, to the caller, in its log and on its span. Every part is
 * built from the error's structure (its code, locations, nodes and path), from names the schema
 * defines, and from a fixed description chosen by classifying graphql-js's message: never from
 * the text of the message, which quotes the values, names and source that the caller sent.
 */
export interface SafeError {
  /** `extensions.code`. */
  code: string;
  message: string;
  /** What kind of problem, as a stable code (INVALID_VALUE, UNKNOWN_FIELD, ... or the node's own reason). */
  reason?: string;
  /** Where in a variable or an argument: schema names and list indices only (`identity.sex`, `[0].forename`). */
  field?: string;
  /** The type the schema expects there (`McxSex`, `[String!]`). */
  expected?: string;
  /** The variable, when its name is also a schema name (`input`); otherwise it is known by its location. */
  variable?: string;
  locations?: { line: number; column: number }[];
  /** The response path, with any alias that is not a schema name shown as `(alias)`. */
  path?: (string | number)[];
  /** The node's own fault: answered as INTERNAL_SERVER_ERROR, logged with its frames. */
  internal: boolean;
}

/** What the description can check names against. Without a schema nothing the caller sent is named. */
export interface DescribeContext {
  schema: GraphQLSchema | null;
  /** The parsed document, when there is one: lets a literal's place in it be named. */
  document?: DocumentNode | null;
}

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

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
// A stable code, or codes joined by ":" (NOT_DISCLOSABLE:GRADE_E).
const CODE_LIKE = /^(?=.{1,64}$)[A-Z][A-Z0-9_]*(:[A-Z][A-Z0-9_]*)*$/;

interface ErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  path?: ReadonlyArray<string | number>;
  nodes?: ReadonlyArray<{ kind: string }>;
  originalError?: unknown;
}

function shape(error: unknown): ErrorShape | null {
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') return null;
  return error as ErrorShape;
}

// Names are checked against the schema (services/node/src/schema-names.ts): only what it defines is named.
const known = (name: string | undefined, ctx: DescribeContext): name is string => isSchemaName(ctx.schema, name);
const knownType = (printed: string | undefined, ctx: DescribeContext) => schemaTypeString(ctx.schema, printed);
const knownPath = (segments: ReadonlyArray<string | number>, ctx: DescribeContext) => schemaPath(ctx.schema, segments);

function where(locations: SafeError['locations']): string {
  const first = locations?.[0];
  return first ? `line ${first.line}, column ${first.column}` : 'an unknown position';
}

// ---------------------------------------------------------------------------------------------
// Syntax errors: the position and a fixed description, never the source text.

const SYNTAX: Array<[RegExp, string]> = [
  [/^Syntax Error: Unterminated string/, 'a string is not terminated'],
  [/^Syntax Error: Invalid (character escape|Unicode escape) sequence/, 'a string has an invalid escape sequence'],
  [/^Syntax Error: Invalid character within String/, 'a string holds a character that is not allowed in it'],
  [/^Syntax Error: (Unexpected character|Invalid character)/, 'a character that is not allowed here'],
  [/^Syntax Error: Invalid number/, 'a number is not valid'],
  [/^Syntax Error: Unexpected <EOF>/, 'the document ends too early'],
  [/^Syntax Error: Unexpected /, 'an unexpected token'],
  [/^Syntax Error: Document contains more than \d+ tokens/, 'the document has more tokens than this node accepts'],
];
// Token kinds graphql-js names in "Expected X, found Y": fixed words and punctuators only.
const TOKEN_KIND = /^Syntax Error: Expected (Name|String|Int|Float|BlockString|<EOF>|"(?:[!$&()[\]{}:=@|]|\.\.\.|on)"), found /;

function syntaxError(error: ErrorShape, locations: SafeError['locations']): SafeError {
  const expected = TOKEN_KIND.exec(error.message)?.[1];
  const description = expected
    ? `expected ${expected}`
    : (SYNTAX.find(([re]) => re.test(error.message))?.[1] ?? 'the document is not valid GraphQL');
  return {
    code: ErrorCode.GRAPHQL_PARSE_FAILED,
    message: `Syntax error at ${where(locations)}: ${description}.`,
    reason: 'SYNTAX',
    ...(locations ? { locations } : {}),
    internal: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation errors: a fixed description per rule, with names only when the schema defines them.

/** The fixed description, and the expected type when the message named one the schema defines. */
type Describe = (m: RegExpExecArray, ctx: DescribeContext) => { text: string; expected?: string | undefined };
const text = (t: string) => ({ text: t });

/** Messages that carry nothing but numbers the node configured: passed on as they are. */
const FIXED_VALIDATION = [
  /^Syntax Error: (Query depth|Aliases|Directives|Query Cost|Token) limit of \d+ exceeded(, found \d+)?\.$/,
  /^Field duplication limit exceeded: a field may appear at most \d+ times in one selection$/,
  /^Maximum introspection depth exceeded$/,
  /^This anonymous operation must be the only defined operation\.$/,
];

const VALIDATION: Array<[RegExp, string, Describe]> = [
  [/^GraphQL introspection is not allowed/, 'INTROSPECTION_DISABLED', () => text('Introspection is not allowed on this node')],
  [
    new RegExp(`^Cannot query field "[^"]*" on type "(${NAME})"`),
    'UNKNOWN_FIELD',
    (m, c) =>
      text(known(m[1], c) ? `Cannot query a field that type ${m[1]} does not have` : 'Cannot query a field that the type does not have'),
  ],
  [
    new RegExp(`^Unknown argument "[^"]*" on field "(${NAME})\\.(${NAME})"`),
    'UNKNOWN_ARGUMENT',
    (m, c) =>
      text(
        known(m[1], c) && known(m[2], c)
          ? `An argument that field ${m[1]}.${m[2]} does not have`
          : 'An argument that the field does not have',
      ),
  ],
  [/^Unknown argument "[^"]*" on directive/, 'UNKNOWN_ARGUMENT', () => text('An argument that the directive does not have')],
  [/^Unknown type "/, 'UNKNOWN_TYPE', () => text('A type that this schema does not have')],
  [/^Unknown fragment "/, 'UNKNOWN_FRAGMENT', () => text('A fragment that the document does not define')],
  [/^Unknown directive "/, 'UNKNOWN_DIRECTIVE', () => text('A directive that this schema does not have')],
  [/^Variable "\$[^"]*" is not defined/, 'UNDEFINED_VARIABLE', () => text('A variable that the operation does not define')],
  [/^Variable "\$[^"]*" is never used/, 'UNUSED_VARIABLE', () => text('A variable that the operation defines but never uses')],
  [
    /^Variable "\$[^"]*" of type "[^"]*" used in position expecting type "([^"]+)"\.$/,
    'VARIABLE_TYPE_MISMATCH',
    (m, c) => ({ text: 'A variable whose type does not fit where it is used', expected: knownType(m[1], c) }),
  ],
  [/^Variable "\$[^"]*" cannot be non-input type/, 'VARIABLE_NOT_INPUT_TYPE', () => text('A variable whose type is not an input type')],
  [
    /^Variable "\$[^"]*" is of type "[^"]*" but must be non-nullable to be used for OneOf Input Object "([^"]+)"\.$/,
    'ONE_OF',
    (m, c) => ({ text: 'A variable for a OneOf input object must be non-nullable', expected: knownType(m[1], c) }),
  ],
  [/^Expected value of type "([^"]+)", found /, 'INVALID_VALUE', invalidValue],
  [new RegExp(`^Enum "(${NAME})" cannot represent non-enum value`), 'INVALID_VALUE', invalidValue],
  [new RegExp(`does not exist in "(${NAME})" enum\\.`), 'INVALID_VALUE', invalidValue],
  // A scalar's own message (String, Int, ... and the node's DateTime and Date).
  [new RegExp(`^(${NAME}) (cannot represent|must be) `), 'INVALID_VALUE', invalidValue],
  [
    new RegExp(`^Field "[^"]*" is not defined by type "(${NAME})"`),
    'UNKNOWN_FIELD',
    (m, c) => text(known(m[1], c) ? `A field that input type ${m[1]} does not define` : 'A field that the input type does not define'),
  ],
  [
    new RegExp(`^Field "(${NAME})\\.(${NAME})" of required type "([^"]+)" was not provided\\.$`),
    'REQUIRED_FIELD',
    (m, c) =>
      text(
        known(m[1], c) && known(m[2], c) && knownType(m[3], c)
          ? `The required field ${m[1]}.${m[2]} of type ${m[3]} was not provided`
          : 'A required input field was not provided',
      ),
  ],
  [
    new RegExp(`^Field "(${NAME})" argument "(${NAME})" of type "([^"]+)" is required`),
    'REQUIRED_ARGUMENT',
    (m, c) =>
      text(
        known(m[1], c) && known(m[2], c) && knownType(m[3], c)
          ? `The required argument ${m[2]} (${m[3]}) of field ${m[1]} was not provided`
          : 'A required argument was not provided',
      ),
  ],
  [
    /^Directive "@[^"]*" argument "[^"]*" of type "[^"]*" is required/,
    'REQUIRED_ARGUMENT',
    () => text('A required argument of a directive was not provided'),
  ],
  [
    new RegExp(`^Field "(${NAME})" must not have a selection since type "([^"]+)" has no subfields\\.$`),
    'SELECTION_NOT_ALLOWED',
    (m, c) =>
      text(
        known(m[1], c) && knownType(m[2], c)
          ? `Field ${m[1]} of type ${m[2]} has no subfields to select`
          : 'A field of a leaf type has no subfields to select',
      ),
  ],
  [
    new RegExp(`^Field "(${NAME})" of type "([^"]+)" must have a selection of subfields`),
    'SELECTION_REQUIRED',
    (m, c) =>
      text(
        known(m[1], c) && knownType(m[2], c)
          ? `Field ${m[1]} of type ${m[2]} needs a selection of subfields`
          : 'A field of an object type needs a selection of subfields',
      ),
  ],
  [
    /^Field "[^"]*" of type "[^"]*" must have at least one field selected/,
    'SELECTION_REQUIRED',
    () => text('A field needs at least one subfield selected'),
  ],
  [/^Fields "[^"]*" conflict/, 'FIELDS_CONFLICT', () => text('Two fields with the same response name select different things')],
  [
    /^There can be only one (operation|fragment|variable|argument|directive|input field) named/,
    'DUPLICATE_NAME',
    (m) => text(`There can be only one ${m[1]} with the same name`),
  ],
  [/^Argument "[^"]*" can only be defined once/, 'DUPLICATE_NAME', () => text('There can be only one argument with the same name')],
  [/^Fragment "[^"]*" is never used/, 'UNUSED_FRAGMENT', () => text('A fragment that is never used')],
  [/^Fragment (?:"[^"]*" )?cannot be spread here/, 'FRAGMENT_NOT_APPLICABLE', () => text('A fragment that cannot apply here')],
  [
    /cannot condition on non composite type/,
    'FRAGMENT_NOT_APPLICABLE',
    () => text('A fragment on a type that is not an object, interface or union'),
  ],
  [/^Cannot spread fragment "[^"]*" within itself/, 'FRAGMENT_CYCLE', () => text('A fragment that spreads itself')],
  [
    /^The directive "@[^"]*" can only be used once at this location/,
    'DIRECTIVE_REPEATED',
    () => text('A directive repeated where it may appear only once'),
  ],
  [
    /^Directive "@[^"]*" may not be used on ([A-Z_]{1,32})\.$/,
    'DIRECTIVE_MISPLACED',
    (m) => text(`A directive that may not be used on ${m[1]}`),
  ],
  [
    /^The .* definition is not executable/,
    'NOT_EXECUTABLE',
    () => text('A definition that cannot be executed (only operations and fragments can)'),
  ],
  [/^(Anonymous )?Subscription /, 'SUBSCRIPTION_SHAPE', () => text('A subscription must select exactly one top-level field')],
  [
    new RegExp(`^OneOf Input Object "(${NAME})" must specify exactly one key`),
    'ONE_OF',
    (m, c) => text(known(m[1], c) ? `OneOf input object ${m[1]} needs exactly one field` : 'A OneOf input object needs exactly one field'),
  ],
];

function invalidValue(m: RegExpExecArray, ctx: DescribeContext): { text: string; expected?: string | undefined } {
  return { text: 'A value that is not of the expected type', expected: knownType(m[1], ctx) };
}

/** Where a node of the document sits, as field, argument and input field names and list indices. */
function pathTo(node: unknown, target: unknown, trail: (string | number)[]): (string | number)[] | null {
  if (node === target) return trail;
  if (typeof node !== 'object' || node === null) return null;
  const n = node as { kind?: string; name?: { value?: unknown } };
  const named = (n.kind === Kind.FIELD || n.kind === Kind.ARGUMENT || n.kind === Kind.OBJECT_FIELD) && typeof n.name?.value === 'string';
  const next = named ? [...trail, n.name!.value as string] : trail;
  for (const [key, child] of Object.entries(node)) {
    if (key === 'loc' || key === 'name' || key === 'alias') continue;
    if (Array.isArray(child)) {
      for (let i = 0; i < child.length; i++) {
        const found = pathTo(child[i], target, n.kind === Kind.LIST ? [...next, i] : next);
        if (found) return found;
      }
    } else if (typeof child === 'object' && child !== null) {
      const found = pathTo(child, target, next);
      if (found) return found;
    }
  }
  return null;
}

function validationError(error: ErrorShape, locations: SafeError['locations'], ctx: DescribeContext): SafeError {
  const base = { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, ...(locations ? { locations } : {}), internal: false };
  if (FIXED_VALIDATION.some((re) => re.test(error.message))) return { ...base, message: error.message, reason: 'LIMIT' };
  let reason = 'INVALID_DOCUMENT';
  let described: { text: string; expected?: string | undefined } = text("The document does not validate against this node's schema");
  for (const [re, code, describe] of VALIDATION) {
    const m = re.exec(error.message);
    if (m) {
      reason = code;
      described = describe(m, ctx);
      break;
    }
  }
  const target = error.nodes?.[0];
  const trail = ctx.document && target ? pathTo(ctx.document, target, []) : null;
  const field = trail && trail.length > 0 ? knownPath(trail, ctx) : undefined;
  const { expected } = described;
  return {
    ...base,
    reason,
    message: `${described.text}${field ? ` at "${field}"` : ''}${expected ? `: expected ${expected}` : ''} (${where(locations)}).`,
    ...(field ? { field } : {}),
    ...(expected ? { expected } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Variable coercion: the variable, the path inside it and the expected type, never the value.

function isVariableError(error: ErrorShape): boolean {
  return error.nodes?.length === 1 && error.nodes[0]?.kind === Kind.VARIABLE_DEFINITION && /^Variable "\$/.test(error.message);
}

/**
 * The path graphql-js printed after the value (`at "input.identity.sex"`). The message is cut at
 * the inner error's message, which it ends with; the value before cannot end like this (a string
 * value is printed with its quotes escaped), and the path must exist in the variable's type.
 */
function coercionPath(message: string, inner: string | undefined, variable: string, type: TypeRef | null): (string | number)[] | null {
  if (inner === undefined || !message.endsWith(`; ${inner}`) || type === null) return null;
  const head = message.slice(0, message.length - inner.length - 2);
  const at = / at "([^"]*)"$/.exec(head);
  if (!at) return [];
  const printed = at[1]!;
  if (!printed.startsWith(variable)) return null;
  const segments: (string | number)[] = [];
  const part = new RegExp(`\\.(${NAME})|\\[(\\d{1,6})\\]`, 'y');
  let rest = printed.slice(variable.length);
  while (rest.length > 0) {
    part.lastIndex = 0;
    const m = part.exec(rest);
    if (!m) return null;
    segments.push(m[1] !== undefined ? m[1] : Number(m[2]));
    rest = rest.slice(m[0].length);
  }
  return walk(type, segments) ? segments : null;
}

const COERCION: Array<[RegExp, string]> = [
  [/^Expected non-nullable type "[^"]*" not to be null\.$/, 'NULL_VALUE'],
  [/^Expected type "[^"]*" to be an object\.$/, 'NOT_AN_OBJECT'],
  [new RegExp(`^Field "(?:${NAME}\\.)?(${NAME})" of required type "[^"]*" was not provided\\.$`), 'REQUIRED_FIELD'],
  [/^Field "[^"]*" is not defined by type "[^"]*"\./, 'UNKNOWN_FIELD'],
  [/^Exactly one key must be specified for OneOf type/, 'ONE_OF'],
  [/^Field "[^"]*" must be non-null\.$/, 'ONE_OF'],
  [/^Expected type "[^"]*"\./, 'INVALID_VALUE'],
];

function innerMessage(error: ErrorShape): string | undefined {
  const inner = error.originalError;
  return inner !== error && typeof (inner as { message?: unknown } | undefined)?.message === 'string'
    ? (inner as { message: string }).message
    : undefined;
}

function variableError(error: ErrorShape, locations: SafeError['locations'], ctx: DescribeContext): SafeError {
  const def = error.nodes![0] as VariableDefinitionNode;
  const name = def.variable.name.value;
  // A variable's name is the caller's word: it is repeated only when it is also a schema name ($input).
  const named = known(name, ctx);
  const label = named ? `Variable "$${name}"` : `The variable defined at ${where(locations)}`;
  const type = ctx.schema ? refFromAst(ctx.schema, def.type) : null;
  const base = {
    code: ErrorCode.BAD_USER_INPUT,
    ...(named ? { variable: name } : {}),
    ...(locations ? { locations } : {}),
    internal: false,
  };
  const declared = type ? printRef(type) : undefined;
  if (error.message.startsWith(`Variable "$${name}" of required type `)) {
    return {
      ...base,
      reason: 'VARIABLE_REQUIRED',
      message: `${label}${declared ? ` of required type ${declared}` : ''} was not provided.`,
      ...(declared ? { expected: declared } : {}),
    };
  }
  if (error.message.startsWith(`Variable "$${name}" of non-null type `)) {
    return {
      ...base,
      reason: 'VARIABLE_NULL',
      message: `${label}${declared ? ` of non-null type ${declared}` : ''} must not be null.`,
      ...(declared ? { expected: declared } : {}),
    };
  }
  const inner = innerMessage(error);
  const segments = coercionPath(error.message, inner, name, type);
  let reason = 'INVALID_VALUE';
  let missing: string | undefined;
  for (const [re, code] of COERCION) {
    const m = inner === undefined ? null : re.exec(inner);
    if (m) {
      reason = code;
      if (code === 'REQUIRED_FIELD') missing = m[1];
      break;
    }
  }
  let at = segments;
  let there = at && type ? walk(type, at) : null;
  if (missing !== undefined && at && there) {
    const field = inputFields(there)?.[missing];
    if (field) {
      at = [...at, missing];
      there = refOf(field.type);
    } else {
      at = null;
      there = null;
    }
  }
  const expected = there ? printRef(reason === 'UNKNOWN_FIELD' ? nullable(there) : there) : undefined;
  const field = at ? printPath(at) : undefined;
  const shown = at === null ? '' : named ? ` at "${printPath([name, ...at])}"` : at.length > 0 ? ` at "${field}"` : '';
  const detail: Record<string, string> = {
    INVALID_VALUE: expected ? `expected ${expected}` : 'the value is not of the expected type',
    NULL_VALUE: expected ? `expected a non-null ${expected}` : 'a value is required',
    NOT_AN_OBJECT: expected ? `expected an input object of type ${expected}` : 'expected an input object',
    UNKNOWN_FIELD: expected ? `a field that ${expected} does not define` : 'a field that the input type does not define',
    REQUIRED_FIELD: expected ? `a required field of type ${expected} was not provided` : 'a required field was not provided',
    ONE_OF: 'exactly one field must be given, and not null',
  };
  return {
    ...base,
    reason,
    message: `${label} has an invalid value${shown}: ${detail[reason]}.`,
    ...(field !== undefined ? { field } : {}),
    ...(expected ? { expected } : {}),
  };
}

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
