import { Client, fetchExchange, type AnyVariables, type CombinedError, type TypedDocumentNode } from '@urql/core';

import type { Session } from './session';

/** The purpose and case reference of the session's case: sent with every read, as the node requires. */
export interface CaseContext {
  purpose: string;
  caseRef: string;
}

/**
 * One GraphQL client per session and case (no case for the auditors' and operators' pages: the
 * node records their reads as AUDIT_REVIEW itself). No cache exchange: an answer lives only in the
 * page that asked for it, and every search asks the federation again.
 */
export function createApi(session: Session, ctx: CaseContext | null) {
  const client = new Client({
    url: '/graphql',
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => ({
      credentials: 'omit',
      cache: 'no-store',
      headers: {
        authorization: `Bearer ${session.token}`,
        ...(ctx ? { 'x-mcx-purpose': ctx.purpose, 'x-mcx-case-ref': ctx.caseRef } : {}),
      },
    }),
  });
  return {
    async query<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V): Promise<D> {
      const r = await client.query(doc, variables).toPromise();
      if (r.error || !r.data) throw new ApiError(r.error);
      return r.data;
    },
    async mutate<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V): Promise<D> {
      const r = await client.mutation(doc, variables).toPromise();
      if (r.error || !r.data) throw new ApiError(r.error);
      return r.data;
    },
    /** A file the node streams (GET, with the session's token, never a cookie): its bytes, or the node's refusal. */
    async download(path: string): Promise<Blob> {
      let res: Response;
      try {
        res = await fetch(path, { credentials: 'omit', cache: 'no-store', headers: { authorization: `Bearer ${session.token}` } });
      } catch {
        throw new ApiError(undefined, { status: null, code: 'NETWORK', reason: null, message: 'the node did not answer' });
      }
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { code?: string; reason?: string; message?: string } } | null;
        const e = body?.error;
        throw new ApiError(undefined, {
          status: res.status,
          code: e?.code ?? 'UNKNOWN',
          reason: e?.reason ?? null,
          message: e?.message ?? res.statusText,
        });
      }
      try {
        return await res.blob();
      } catch {
        // The node cut the file part-way: nothing is offered as if it were whole.
        throw new ApiError(undefined, { status: res.status, code: 'NETWORK', reason: null, message: 'the download was cut short' });
      }
    },
  };
}
export type Api = ReturnType<typeof createApi>;

/** A refusal from the node, with its code, its reason (the precise code) and the field it concerns. */
export class ApiError extends Error {
  readonly code: string;
  readonly reason: string | null;
  readonly field: string | null;
  readonly status: number | null;
  /** `refusal`: a refusal from a route outside GraphQL (`{ error: { code, reason, message } }`, or no answer at all). */
  constructor(error: CombinedError | undefined, refusal?: { status: number | null; code: string; reason: string | null; message: string }) {
    const first = error?.graphQLErrors[0];
    super(refusal?.message ?? first?.message ?? error?.networkError?.message ?? 'no answer');
    const ext = (first?.extensions ?? {}) as { code?: string; reason?: string; field?: string };
    const response = error?.response as { status?: number } | undefined;
    this.status = refusal ? refusal.status : (response?.status ?? null);
    this.code = refusal?.code ?? ext.code ?? (error?.networkError ? 'NETWORK' : 'UNKNOWN');
    this.reason = refusal ? refusal.reason : (ext.reason ?? null);
    this.field = ext.field ? ext.field.replace(/^identity\.?/, '') : null;
  }
}
