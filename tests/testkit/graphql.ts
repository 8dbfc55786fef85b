import { expect } from 'vitest';

import { McxClientError, type GraphQLResponseError } from '@mcx/client';

/**
 * Asserts that the call's answer holds a GraphQL error with this extensions.code (and reason), and returns
 * that error. The call may resolve to `client.raw(...)`'s result or a parsed response body, or reject with
 * McxClientError as `client.request(...)` does; anything else thrown is not a GraphQL answer and is rethrown.
 */
export async function expectGraphQLError(call: Promise<unknown>, code: string, reason?: string): Promise<GraphQLResponseError> {
  let errors: GraphQLResponseError[];
  try {
    const answer = await call;
    const carried = answer !== null && typeof answer === 'object' && 'errors' in answer ? answer.errors : undefined;
    errors = Array.isArray(carried) ? (carried as GraphQLResponseError[]) : [];
  } catch (err) {
    if (!(err instanceof McxClientError)) throw err;
    errors = err.errors;
  }
  expect(errors.length, `a GraphQL error with code ${code}`).toBeGreaterThan(0);
  const error = errors[0]!;
  expect(error.extensions).toMatchObject(reason === undefined ? { code } : { code, reason });
  return error;
}
