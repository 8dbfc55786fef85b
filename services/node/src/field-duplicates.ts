import { GraphQLError, Kind, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * Refuses a selection set that asks for the same field (response name) more than `max`
 * times. graphql-js merges duplicates, so they cost the server work and give the caller
 * nothing: 500 copies of `__typename` is an attack (graphql-cop "field duplication"), not a
 * query. graphql-armor has no rule for it.
 */
export function maxFieldDuplicatesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    SelectionSet(node) {
      const counts = new Map<string, number>();
      for (const s of node.selections) {
        if (s.kind !== Kind.FIELD) continue;
        const key = s.alias?.value ?? s.name.value;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        if (n === max + 1) {
          context.reportError(new GraphQLError(`Field duplication limit exceeded: a field may appear at most ${max} times in one selection`, { nodes: [s] }));
        }
      }
    },
  });
}
