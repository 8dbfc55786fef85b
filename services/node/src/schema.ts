import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';

/** The repository's schema/ folder (the container image keeps the same layout). */
export const SCHEMA_DIR = fileURLToPath(new URL('../../../schema', import.meta.url));

/** The node's SDL: every schema/*.graphql file, in name order. */
export function loadTypeDefs(dir = SCHEMA_DIR): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql') && !f.startsWith('codegen-'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

/** Builds the federated subgraph schema from the SDL and the resolver map. */
export function buildSchema(resolvers: GraphQLResolverMap<unknown>): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(loadTypeDefs()), resolvers }]);
}
