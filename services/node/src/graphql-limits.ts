import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ValidationRule } from 'graphql';
import type { Config } from './config.js';
import { maxFieldDuplicatesRule } from './field-duplicates.js';

/**
 * Baseline limits against hostile queries (graphql-armor): depth, aliases, directives,
 * tokens and cost, repeated fields, and no "Did you mean" suggestions that leak the schema. Batching stays
 * off (Apollo's default).
 */
export function graphqlLimits(config: Config['graphql']): { plugins: ApolloServerPlugin[]; validationRules: ValidationRule[] } {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxDepth, ignoreIntrospection: false },
    // Aliases of __typename count too: graphql-armor allows them by default.
    maxAliases: { n: config.maxAliases, allowList: [] },
    maxDirectives: { n: config.maxDirectives },
    maxTokens: { n: config.maxTokens },
    costLimit: { maxCost: config.maxCost },
    blockFieldSuggestion: { enabled: true },
  });
  const { plugins, validationRules } = armor.protect();
  // graphql-armor is typed against its own copy of @apollo/server's types.
  return { plugins: plugins as unknown as ApolloServerPlugin[], validationRules: [...validationRules, maxFieldDuplicatesRule(3)] };
}
