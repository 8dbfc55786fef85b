import { expect } from 'vitest';

import { readHeaders, type TestNode } from './node.js';
import { startProductionNode, type ProductionNode } from './production.js';

/** A body as the edge answers it: GraphQL's errors, or the edge's own error object. */
export type EdgeJson = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[]; error?: { code: string } };

export const RESPONSE_JSON = { accept: 'application/graphql-response+json' };
export const LEGACY_JSON = { accept: 'application/json' };

/** A body nested `depth` deep: `depth` opening brackets, then as many closing ones. */
export const nested = (depth: number) =>
  Buffer.from(`{"query":"query($v: [Int]) { __typename }","variables":{"v":${'['.repeat(depth)}${']'.repeat(depth)}}}`);

export interface EdgeNode {
  prod: ProductionNode;
  t: TestNode;
  /** An investigator's request headers: a token from the force's identity provider, a purpose and a case reference. */
  investigator: Record<string, string>;
  /** POSTs `body` as JSON to `path`, with the status, headers, text and the JSON if it is JSON. */
  post(
    path: string,
    body: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; text: string; json: EdgeJson }>;
  graphql(query: string, headers?: Record<string, string>): ReturnType<EdgeNode['post']>;
}

/** A production-mode WMP node for the HTTP edge's tests (services/node/src/http/), with an investigator. */
export async function startEdgeNode(): Promise<EdgeNode> {
  const prod = await startProductionNode();
  const t = prod.t;
  const user = await prod.signToken({ roles: ['investigator'], mcx_token_kind: 'user', sub: 'inv-1' });
  const post: EdgeNode['post'] = async (path, body, headers = {}) => {
    const res = await fetch(`${t.node.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    let json: EdgeJson = {};
    try {
      json = JSON.parse(text) as EdgeJson;
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    prod,
    t,
    investigator: { authorization: `Bearer ${user}`, ...readHeaders('WMP') },
    post,
    graphql: (query, headers = {}) => post('/graphql', JSON.stringify({ query }), headers),
  };
}

/**
 * /healthz kept answering under 100 ms while the flood ran: nine probes in ten, and none stalled
 * (a blocked event loop, as before the edge was rebuilt, held it for seconds). One slow probe on a
 * shared 2-core machine is the scheduler, not the node.
 */
export function expectResponsive(health: number[]): void {
  const sorted = [...health].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length * 0.9)] ?? Infinity).toBeLessThan(100);
  expect(sorted.at(-1)).toBeLessThan(1000);
}
