import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ParseOptions, ValidationRule } from 'graphql';

import type { Config } from './config.js';
import { maxFieldDuplicatesRule } from './field-duplicates.js';

/**
 * Baseline limits against hostile queries (graphql-armor): depth, aliases, directives,
 * tokens and cost, repeated fields, and no "Did you mean" suggestions that leak the schema. Batching stays
 * off (Apollo's default).
 *
 * The token limit is graphql-js's own (`parseOptions.maxTokens`), applied by Apollo's parse: a
 * document over it, like any syntax error, is GRAPHQL_PARSE_FAILED with HTTP 400. graphql-armor's
 * Apollo token plugin parses the document a second time in a plugin hook, where any syntax error
 * (even `{`) escapes Apollo's parse handling and becomes HTTP 500.
 */
export function graphqlLimits(config: Config['graphql']): {
  plugins: ApolloServerPlugin[];
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
} {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxDepth, ignoreIntrospection: false },
    // Aliases of __typename count too: graphql-armor allows them by default.
    maxAliases: { n: config.maxAliases, allowList: [] },
    maxDirectives: { n: config.maxDirectives },
    maxTokens: { enabled: false },
    costLimit: { maxCost: config.maxCost },
    blockFieldSuggestion: { enabled: true },
  });
  const { plugins, validationRules } = armor.protect();
  // graphql-armor is typed against its own copy of @apollo/server's types.
  return {
    plugins: plugins as unknown as ApolloServerPlugin[],
    validationRules: [...validationRules, maxFieldDuplicatesRule(3)],
    parseOptions: { maxTokens: config.maxTokens },
  };
}
