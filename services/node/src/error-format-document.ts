import { Kind } from 'graphql';

import { ErrorCode } from '@mcx/errors';

import { known, knownPath, knownType, NAME, where, type DescribeContext, type ErrorShape, type SafeError } from './safe-error.js';

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

export function syntaxError(error: ErrorShape, locations: SafeError['locations']): SafeError {
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

export function validationError(error: ErrorShape, locations: SafeError['locations'], ctx: DescribeContext): SafeError {
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
