import { McxError } from '@mcx/errors';
import { signNodeToken, type SigningKey } from '@mcx/signing';

import { LinkageErrorCode } from './linkage-errors.js';
import type { LinkageEvaluator } from './oprf-client.js';

/** Lifetime of the node token sent with each call: well above the timeout, well below the 60 s cap. */
const TOKEN_TTL_SEC = 30;
/** A response larger than this is not an answer to a batch the service would accept. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const ELEMENT = /^[A-Za-z0-9_-]{43}$/;
const SERVICE_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Options for `createHttpEvaluator`. */
export interface HttpEvaluatorOptions {
  /** Base URL of the linkage service, e.g. `https://linkage.mcx.example`. */
  url: string;
  /** This node's member code (the token's `iss`). */
  member: string;
  /** The service's audience (default `mcx-linkage`). */
  audience?: string;
  /** This node's peer-token key, listed for `member` in the trust manifest. */
  peerTokenKey: SigningKey<'peer-token'>;
  /** Deadline for the whole call, in ms (default 3000). */
  timeoutMs?: number;
  /** Ask for this key version (rekey changeover); omitted, the service's active key. */
  keyVersion?: string;
  /** The clock for tokens; tests freeze it. */
  now?: () => Date;
}

const fail = (code: LinkageErrorCode, message: string, cause?: unknown): never => {
  throw new McxError(code, message, cause === undefined ? undefined : { cause });
};

function serviceCode(body: string): string {
  try {
    const code: unknown = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' && SERVICE_CODE.test(code) ? code : 'UNKNOWN';
  } catch {
    return 'UNKNOWN';
  }
}

function parseAnswer(text: string, expected: number, keyVersion: string | undefined): { keyVersion: string; evaluated: Uint8Array[] } {
  const invalid = (why: string) => fail(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, `the linkage service answered badly: ${why}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return invalid('not JSON');
  }
  const answer = body as { keyVersion?: unknown; evaluated?: unknown };
  if (typeof answer?.keyVersion !== 'string' || !Array.isArray(answer.evaluated)) return invalid('not { keyVersion, evaluated }');
  if (keyVersion !== undefined && answer.keyVersion !== keyVersion) return invalid('another key version than asked for');
  if (answer.evaluated.length !== expected) return invalid(`${answer.evaluated.length} elements for ${expected}`);
  const evaluated = answer.evaluated.map((e: unknown, i) => {
    if (typeof e !== 'string' || !ELEMENT.test(e)) return invalid(`element ${i} is not an encoded element`);
    return new Uint8Array(Buffer.from(e, 'base64url'));
  });
  return { keyVersion: answer.keyVersion, evaluated };
}

/**
 * A `LinkageEvaluator` that calls the federation's linkage service: one POST per `evaluate`,
 * with a fresh node token each time. Throws `LINKAGE_UNAVAILABLE` (network, timeout, 5xx),
 * `LINKAGE_RATE_LIMITED` (429), `LINKAGE_REFUSED` (other 4xx) or `LINKAGE_EVALUATION_INVALID`.
 *
 * @example
 * const evaluator = createHttpEvaluator({ url: config.linkageUrl, member: 'WMP', peerTokenKey: keys.peerToken });
 * const keys = await deriveLinkageKeys(identity, evaluator, { role: 'record' });
 */
export function createHttpEvaluator(options: HttpEvaluatorOptions): LinkageEvaluator {
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/evaluate`;
  const audience = options.audience ?? 'mcx-linkage';
  const timeoutMs = options.timeoutMs ?? 3000;
  const now = options.now ?? (() => new Date());

  return {
    async evaluate(blinded) {
      const token = signNodeToken({ iss: options.member, aud: audience, ttlSec: TOKEN_TTL_SEC }, options.peerTokenKey, now());
      const body = JSON.stringify({
        ...(options.keyVersion !== undefined && { keyVersion: options.keyVersion }),
        blinded: blinded.map((b) => Buffer.from(b).toString('base64url')),
      });
      const signal = AbortSignal.timeout(timeoutMs);
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body,
          signal,
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        if (Number(res.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
          await res.body?.cancel();
          return fail(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, 'the linkage service answer is too large');
        }
        text = await res.text();
      } catch (cause) {
        if (cause instanceof McxError) throw cause;
        const why = signal.aborted ? `no answer within ${timeoutMs} ms` : 'cannot reach it';
        return fail(LinkageErrorCode.LINKAGE_UNAVAILABLE, `linkage service unavailable: ${why}`, cause);
      }
      if (status === 429) {
        const seconds = /^\d{1,6}$/.test(retryAfter ?? '') ? `; retry after ${retryAfter} s` : '';
        return fail(LinkageErrorCode.LINKAGE_RATE_LIMITED, `the linkage service rate-limited this node${seconds}`);
      }
      if (status >= 500) return fail(LinkageErrorCode.LINKAGE_UNAVAILABLE, `linkage service unavailable: HTTP ${status}`);
      if (status >= 400)
        return fail(LinkageErrorCode.LINKAGE_REFUSED, `the linkage service refused the call: ${serviceCode(text)} (HTTP ${status})`);
      if (status !== 200) return fail(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, `the linkage service answered HTTP ${status}`);
      if (text.length > MAX_RESPONSE_BYTES)
        return fail(LinkageErrorCode.LINKAGE_EVALUATION_INVALID, 'the linkage service answer is too large');
      return parseAnswer(text, blinded.length, options.keyVersion);
    },
  };
}
