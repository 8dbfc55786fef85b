import { Kind, type GraphQLSchema, type TypeNode } from 'graphql';

/**
 * The names a schema defines, and input types walked by their shape: what an error description
 * may repeat (services/node/src/error-format.ts). A caller's own words (an alias, a variable name,
 * an unknown field) are never schema names unless they happen to equal one, which reveals nothing.
 */

const vocabularies = new WeakMap<GraphQLSchema, Set<string>>();

// Types are read by their shape, never with graphql-js's isXxxType: the schema may come from
// another copy of graphql-js (the subgraph library's), where those checks fail or throw.
export interface TypeShape {
  name?: string;
  ofType?: TypeShape;
  getFields?: () => Record<string, { name: string; type: TypeShape; args?: ReadonlyArray<{ name: string }> }>;
  getValues?: () => ReadonlyArray<{ name: string }>;
  toString(): string;
}

function vocabulary(schema: GraphQLSchema): Set<string> {
  let words = vocabularies.get(schema);
  if (words) return words;
  words = new Set<string>();
  for (const type of Object.values(schema.getTypeMap()) as TypeShape[]) {
    if (type.name) words.add(type.name);
    for (const field of Object.values(type.getFields?.() ?? {})) {
      words.add(field.name);
      for (const arg of field.args ?? []) words.add(arg.name);
    }
    for (const value of type.getValues?.() ?? []) words.add(value.name);
  }
  for (const directive of schema.getDirectives()) {
    words.add(directive.name);
    for (const arg of directive.args) words.add(arg.name);
  }
  vocabularies.set(schema, words);
  return words;
}

/** An input type as the schema holds it, or as a variable definition writes it. */
export type TypeRef = { kind: 'named'; type: TypeShape } | { kind: 'list' | 'nonNull'; of: TypeRef };

export function refOf(type: TypeShape): TypeRef {
  if (type.ofType === undefined) return { kind: 'named', type };
  return { kind: String(type).endsWith('!') ? 'nonNull' : 'list', of: refOf(type.ofType) };
}

export function refFromAst(schema: GraphQLSchema, node: TypeNode): TypeRef | null {
  if (node.kind === Kind.NAMED_TYPE) {
    const type = schema.getType(node.name.value) as TypeShape | undefined;
    return type ? { kind: 'named', type } : null;
  }
  const of = refFromAst(schema, node.type);
  return of ? { kind: node.kind === Kind.LIST_TYPE ? 'list' : 'nonNull', of } : null;
}

export function printRef(ref: TypeRef): string {
  return ref.kind === 'named' ? String(ref.type.name) : ref.kind === 'list' ? `[${printRef(ref.of)}]` : `${printRef(ref.of)}!`;
}

export function nullable(ref: TypeRef): TypeRef {
  return ref.kind === 'nonNull' ? ref.of : ref;
}

/** The input fields of an input object type, or null for any other type. */
export function inputFields(ref: TypeRef): Record<string, { type: TypeShape }> | null {
  const r = nullable(ref);
  return r.kind === 'named' && r.type.getFields && r.type.getValues === undefined ? r.type.getFields() : null;
}

/** True when `name` is a name the schema defines (a type, field, argument, input field, enum value or directive). */
export function isSchemaName(schema: GraphQLSchema | null, name: string | undefined): name is string {
  return name !== undefined && schema !== null && vocabulary(schema).has(name);
}

/** A printed type (`[McxSex!]!`) whose every name is a type of the schema, or undefined. */
export function schemaTypeString(schema: GraphQLSchema | null, printed: string | undefined): string | undefined {
  if (printed === undefined || schema === null || !/^[[\]!_0-9A-Za-z]{1,200}$/.test(printed)) return undefined;
  const names = printed.match(/[_A-Za-z][_0-9A-Za-z]*/g) ?? [];
  return names.length > 0 && names.every((n) => schema.getType(n) !== undefined) ? printed : undefined;
}

/** `identity.aliases[1]`. */
export function printPath(segments: ReadonlyArray<string | number>): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** A path of schema names and indices, printed, or undefined when any part is not a schema name. */
export function schemaPath(schema: GraphQLSchema | null, segments: ReadonlyArray<string | number>): string | undefined {
  return segments.every((s) => typeof s === 'number' || isSchemaName(schema, s)) ? printPath(segments) : undefined;
}

/** The type at `segments` inside `type`, or null when the path is not one the type has. */
export function walk(type: TypeRef, segments: ReadonlyArray<string | number>): TypeRef | null {
  let t: TypeRef = type;
  for (const s of segments) {
    t = nullable(t);
    if (typeof s === 'number') {
      if (t.kind !== 'list') return null;
      t = t.of;
    } else {
      const field = inputFields(t)?.[s];
      if (!field) return null;
      t = refOf(field.type);
    }
  }
  return t;
}
