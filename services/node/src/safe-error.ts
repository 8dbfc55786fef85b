import type { DocumentNode, GraphQLSchema } from 'graphql';

import { isSchemaName, schemaPath, schemaTypeString } from './schema-names.js';

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

/** A name as graphql-js prints it in its messages. */
export const NAME = '[_A-Za-z][_0-9A-Za-z]*';

/** The parts of an error the description reads, whatever class the error is. */
export interface ErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  path?: ReadonlyArray<string | number>;
  nodes?: ReadonlyArray<{ kind: string }>;
  originalError?: unknown;
}

export function shape(error: unknown): ErrorShape | null {
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') return null;
  return error as ErrorShape;
}

// Names are checked against the schema (services/node/src/schema-names.ts): only what it defines is named.
export const known = (name: string | undefined, ctx: DescribeContext): name is string => isSchemaName(ctx.schema, name);
export const knownType = (printed: string | undefined, ctx: DescribeContext) => schemaTypeString(ctx.schema, printed);
export const knownPath = (segments: ReadonlyArray<string | number>, ctx: DescribeContext) => schemaPath(ctx.schema, segments);

export function where(locations: SafeError['locations']): string {
  const first = locations?.[0];
  return first ? `line ${first.line}, column ${first.column}` : 'an unknown position';
}
