import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** RFC 3339 date-time with an offset, and a calendar date: shared by the scalars and the input checks. */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const DATE = /^\d{4}-\d{2}-\d{2}$/;

function strictScalar(name: string, description: string, valid: (v: string) => boolean): GraphQLScalarType<string, string> {
  // The message never repeats the value: graphql-js would otherwise echo a child's name.
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || value.length > 40 || !valid(value)) throw new GraphQLError(`${name} must be ${description}`);
    return value;
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: (v) => check(v),
    parseValue: check,
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) throw new GraphQLError(`${name} must be a string`);
      return check(ast.value);
    },
  });
}

/** RFC 3339 date-time with an offset, checked to be a real instant. */
export const DateTimeScalar = strictScalar(
  'DateTime',
  'an RFC 3339 date-time with an offset',
  (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)),
);

/** A calendar date, YYYY-MM-DD, checked to exist (no 30 February). */
export const DateScalar = strictScalar('Date', 'a calendar date, YYYY-MM-DD', (v) => {
  if (!DATE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
});
