import type { McxGradingInput, McxHandlingCondition } from '../../__generated__/resolvers-types.js';
import type { InputChecker } from './validation.js';

/** A 3x5x2 grade with the scheme beside it. */
export interface Grading {
  scheme: '3x5x2';
  source: '1' | '2' | '3';
  intelligence: 'A' | 'B' | 'C' | 'D' | 'E';
  handling: 'P' | 'C';
  conditions: McxHandlingCondition[];
}

export const SOURCE = ['1', '2', '3'] as const;
export const INTELLIGENCE = ['A', 'B', 'C', 'D', 'E'] as const;
export const HANDLING = ['P', 'C'] as const;

function oneOf<T extends string>(c: InputChecker, field: string, value: string | null | undefined, allowed: readonly T[]): T | undefined {
  const v = c.required(field, value);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) return c.fail(field, 'UNKNOWN_CODE', `${field} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/**
 * Reads a 3x5x2 grading. Handling C needs its conditions recorded; P carries none. Another
 * scheme (such as 5x5x5) is refused rather than converted.
 */
export function checkGrading(c: InputChecker, input: McxGradingInput | null | undefined, opts: { required: boolean }): Grading | null {
  if (!input) {
    if (opts.required) c.fail('grading', 'REQUIRED', 'grading is required');
    return null;
  }
  const g = c.nested('grading');
  const scheme = oneOf(g, 'scheme', input.scheme, ['3x5x2'] as const);
  const source = oneOf(g, 'source', input.source, SOURCE);
  const intelligence = oneOf(g, 'intelligence', input.intelligence, INTELLIGENCE);
  const handling = oneOf(g, 'handling', input.handling, HANDLING);
  const conditions = [...new Set(g.list('conditions', input.conditions, 8))].sort();
  if (handling === 'C' && conditions.length === 0) g.fail('conditions', 'REQUIRED', 'handling code C needs its conditions recorded');
  if (handling === 'P' && conditions.length > 0) g.fail('conditions', 'INVALID_STATE', 'handling code P carries no conditions; use C');
  if (!scheme || !source || !intelligence || !handling) return null;
  return { scheme, source, intelligence, handling, conditions };
}
