import { expect } from 'vitest';

import { McxClientError, type GraphQLResponseError } from '@mcx/client';

/**
 * Asserts that the call's answer holds a GraphQL error with this extensions.code (and reason), and returns
 * that error. The call (or its settled value) may be `client.raw(...)`'s result or a parsed response body, or
 * reject with McxClientError as `client.request(...)` does; anything else thrown is not a GraphQL answer and
 * is rethrown.
 */
export async function expectGraphQLError(call: unknown, code: string, reason?: string): Promise<GraphQLResponseError> {
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

/** A GraphQL answer as sent on the wire, with the first error's code and reason. */
export interface PostedGraphQL {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLResponseError[] };
  code: string | undefined;
  reason: unknown;
}

/** POSTs a query to a node's /graphql with a given Authorization (or none) and headers, as any HTTP client could. */
export async function postGraphQL(
  url: string,
  auth: string | null,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<PostedGraphQL> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as PostedGraphQL['body'];
  return { status: res.status, body, code: body.errors?.[0]?.extensions?.code, reason: body.errors?.[0]?.extensions?.reason };
}
