import { Kind, type VariableDefinitionNode } from 'graphql';

import { ErrorCode } from '@mcx/errors';

import { known, NAME, where, type DescribeContext, type ErrorShape, type SafeError } from './safe-error.js';
import { inputFields, nullable, printPath, printRef, refFromAst, refOf, walk, type TypeRef } from './schema-names.js';

// ---------------------------------------------------------------------------------------------
// Variable coercion: the variable, the path inside it and the expected type, never the value.

export function isVariableError(error: ErrorShape): boolean {
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

export function variableError(error: ErrorShape, locations: SafeError['locations'], ctx: DescribeContext): SafeError {
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
