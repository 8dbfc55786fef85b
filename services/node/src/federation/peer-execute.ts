/**
 * Runs an allow-listed peer operation without a GraphQL server's request pipeline. A member may
 * send only the fixed documents of the allow-list (`@mcx/federation` operations), so each is
 * parsed and validated against this node's schema once, on first use, and every request after
 * that runs graphql-js `execute` on the cached document: the variables are still coerced against
 * the schema's input types and the same resolvers run (guards, input checks, the disclosure
 * policy, the audit entry). Errors are described, logged and answered as the node's GraphQL
 * errors are (error-format.ts), never with graphql-js's own text.
 */
import { createRequire } from 'node:module';

import type { DocumentNode, GraphQLFormattedError, GraphQLSchema } from 'graphql';

import type { PeerOperation } from '@mcx/federation';
import type { Logger } from '@mcx/logger';

import type { Context } from '../context.js';
import { describeGraphQLError } from '../error-format.js';
import { toFormattedError } from '../error-handling.js';

// graphql-js through require: the schema is built by @apollo/subgraph, a CommonJS package, so
// execute must come from the same copy of graphql-js (its CommonJS build), even where a test
// runner or bundler would hand this module graphql's ES module build (graphql-js refuses a schema
// from "another module or realm").
const { execute, parse, validate, GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export interface PeerExecution {
  data: Record<string, unknown> | null;
  errors: GraphQLFormattedError[] | null;
}

export type PeerExecutor = (op: PeerOperation, variables: Record<string, unknown>, ctx: Context) => Promise<PeerExecution>;

export function createPeerExecutor(schema: GraphQLSchema): PeerExecutor {
  const documents = new Map<string, DocumentNode>();

  /** The operation's document, parsed and validated once; an allow-listed document this schema refuses is a build fault. */
  function documentFor(op: PeerOperation): DocumentNode {
    const cached = documents.get(op.hash);
    if (cached) return cached;
    const document = parse(op.document);
    const invalid = validate(schema, document);
    if (invalid.length > 0) throw new GraphQLError(`the allow-listed operation ${op.name} does not validate against this node's schema`);
    documents.set(op.hash, document);
    return document;
  }

  return async (op, variables, ctx) => {
    const document = documentFor(op);
    const result = await execute({ schema, document, variableValues: variables, contextValue: ctx });
    if (!result.errors?.length) return { data: (result.data ?? null) as Record<string, unknown> | null, errors: null };
    const log: Logger = ctx.logger;
    const errors = result.errors.map((error) => {
      const safe = describeGraphQLError(error, { schema, document });
      const fields = { graphqlError: { code: safe.code, ...(safe.reason ? { reason: safe.reason } : {}) }, operation: op.name };
      if (safe.internal) log.error({ ...fields, err: error }, 'unexpected error while answering a peer');
      else log.info(fields, safe.message);
      return toFormattedError(safe);
    });
    return { data: (result.data ?? null) as Record<string, unknown> | null, errors };
  };
}
