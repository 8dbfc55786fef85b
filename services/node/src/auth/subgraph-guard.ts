import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';

import type { Context } from '../context.js';
import { GraphQLErrorCode } from '../errors.js';

const ENTRY_POINTS = new Set(['_service', '_entities']);

/** Root field names, looking through fragments so a spread cannot hide an entry point. */
function rootFields(set: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): string[] {
  return set.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD) return [s.name.value];
    if (s.kind === Kind.INLINE_FRAGMENT) return rootFields(s.selectionSet, document, seen);
    if (seen.has(s.name.value)) return [];
    seen.add(s.name.value);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === s.name.value);
    return fragment && fragment.kind === Kind.FRAGMENT_DEFINITION ? rootFields(fragment.selectionSet, document, seen) : [];
  });
}

/**
 * A refusal before execution is the whole request's answer: 401 (with a challenge) or 403, as the
 * GraphQL-over-HTTP spec allows, never the 500 Apollo gives an error from a plugin hook.
 */
function withHttpStatus(err: unknown): unknown {
  if (!(err instanceof GraphQLError)) return err;
  const unauthenticated = err.extensions.code === GraphQLErrorCode.UNAUTHENTICATED;
  const headers = new HeaderMap(unauthenticated ? [['www-authenticate', 'Bearer']] : []);
  return new GraphQLError(err.message, {
    extensions: { ...err.extensions, http: { status: unauthenticated ? 401 : 403, headers } },
    originalError: err,
  });
}

/**
 * In production, the federation entry points `_service` and `_entities` need a router
 * credential that forwards an investigator. `_entities` then still goes through the same
 * read guard (purpose, case reference, policy) as every other read, in its resolvers.
 */
export function subgraphEntryGuard(opts: { production: boolean }): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!opts.production || !operation) return;
          const touches = rootFields(operation.selectionSet, document).some((name) => ENTRY_POINTS.has(name));
          if (touches) await contextValue.access.requireRouter('_service').catch((err: unknown) => Promise.reject(withHttpStatus(err)));
        },
      };
    },
  };
}
