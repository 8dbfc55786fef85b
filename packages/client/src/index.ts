import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';

export * from './__generated__/graphql.js';

export interface GraphQLResponseError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [k: string]: unknown };
}

/** Thrown when the node answers with GraphQL errors or a non-2xx status. */
export class McxClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: GraphQLResponseError[],
  ) {
    super(message);
    this.name = 'McxClientError';
  }

  /** The `extensions.code` of the first error, e.g. UNAUTHENTICATED. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export interface ClientOptions {
  /** The node's base URL, e.g. http://127.0.0.1:4000 (the client adds /graphql). */
  url: string;
  /** A bearer token, or a function that returns a fresh one per request. */
  token?: string | (() => string | Promise<string>);
  /** Extra headers on every request, e.g. x-mcx-purpose and x-mcx-case-ref. */
  headers?: Record<string, string>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface RawResult<T> {
  status: number;
  data: T | null;
  errors: GraphQLResponseError[];
}

const printed = new WeakMap<DocumentNode, string>();

/**
 * The typed MCX client for force systems, investigators' tools, the tests and the demo.
 * @example
 * const mcx = createClient({ url: 'http://127.0.0.1:4000', token });
 * const { publishEpisode } = await mcx.request(PublishEpisodeDocument, { input });
 */
export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? fetch;

  async function raw<TData, TVars>(
    document: TypedDocumentNode<TData, TVars>,
    variables?: TVars,
    extraHeaders?: Record<string, string>,
  ): Promise<RawResult<TData>> {
    let query = printed.get(document);
    if (!query) {
      query = print(document);
      printed.set(document, query);
    }
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const res = await doFetch(`${options.url.replace(/\/$/, '')}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
        ...extraHeaders,
      },
      body: JSON.stringify({ query, variables: variables ?? {} }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: { data?: TData | null; errors?: GraphQLResponseError[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = { errors: [{ message: `non-JSON response (${res.status})` }] };
    }
    return { status: res.status, data: body.data ?? null, errors: body.errors ?? [] };
  }

  return {
    /** Sends an operation and returns status, data and errors without throwing on errors. */
    raw,
    /** Sends an operation; throws McxClientError if the node answered with any error. */
    async request<TData, TVars>(
      document: TypedDocumentNode<TData, TVars>,
      variables?: TVars,
      extraHeaders?: Record<string, string>,
    ): Promise<TData> {
      const result = await raw(document, variables, extraHeaders);
      if (result.errors.length > 0 || result.data === null) {
        throw new McxClientError(result.errors[0]?.message ?? `request failed (${result.status})`, result.status, result.errors);
      }
      return result.data;
    },
  };
}

export type McxClient = ReturnType<typeof createClient>;
