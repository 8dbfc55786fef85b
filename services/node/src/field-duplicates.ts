import { GraphQLError, Kind, type ASTNode, type ASTVisitor, type FieldNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * Refuses a selection set that asks for the same field (response name) more than `max`
 * times. graphql-js merges duplicates, so they cost the server work and give the caller
 * nothing: 500 copies of `__typename` is an attack (graphql-cop "field duplication"), not a
 * query. graphql-armor has no rule for it.
 *
 * Inline fragments and fragment spreads merge into the selection that holds them, so their
 * fields count there: `{ a ... { a ... { a } } }` asks for `a` three times.
 */
export function maxFieldDuplicatesRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    /** The fields a selection set contributes to its response object, through fragments. */
    const fieldsOf = (set: SelectionSetNode, seen: Set<string>, out: FieldNode[]): FieldNode[] => {
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) out.push(s);
        else if (s.kind === Kind.INLINE_FRAGMENT) fieldsOf(s.selectionSet, seen, out);
        else if (!seen.has(s.name.value)) {
          // A spread of a fragment already counted in this selection (or a cycle, refused by another rule) adds nothing new.
          seen.add(s.name.value);
          const fragment = context.getFragment(s.name.value);
          if (fragment) fieldsOf(fragment.selectionSet, seen, out);
        }
      }
      return out;
    };
    return {
      SelectionSet(node, _key, parent) {
        // Counted where the fields land: under a field or an operation, not in each fragment on its own.
        const owner = parent as ASTNode | undefined;
        if (!owner || !('kind' in owner) || (owner.kind !== Kind.FIELD && owner.kind !== Kind.OPERATION_DEFINITION)) return;
        const counts = new Map<string, number>();
        for (const f of fieldsOf(node, new Set(), [])) {
          const key = f.alias?.value ?? f.name.value;
          const n = (counts.get(key) ?? 0) + 1;
          counts.set(key, n);
          if (n === max + 1) {
            context.reportError(
              new GraphQLError(`Field duplication limit exceeded: a field may appear at most ${max} times in one selection`, {
                nodes: [f],
              }),
            );
          }
        }
      },
    };
  };
}
