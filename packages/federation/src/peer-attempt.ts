import { request as httpRequest, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { FanOutReason, httpStatusReason } from './federation-errors.js';
import type { PeerResult } from './peer-result.js';

// Internal: one bounded POST to one peer. No breaker, no retry: the caller decides what a
// result means for the peer's health. Every path settles exactly once, by the timer at latest.

/** A stable error code as the reason, never free text (and so never body contents). */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** What one attempt produced; the caller adds `member`. */
export type AttemptOutcome = Omit<PeerResult, 'member'>;

/** One POST, ready to send. */
export interface PreparedPost {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Bounds and means for one attempt. */
export interface AttemptLimits {
  /** Cut the attempt this many ms after it starts (reason `TIMEOUT`)... */
  perPeerTimeoutMs: number;
  /** ...or at this `performance.now()` instant, whichever comes first (reason `DEADLINE`). */
  deadlineAt: number;
  maxResponseBytes: number;
  agent: Agent;
  signal: AbortSignal | undefined;
}

/** Lower-case header names; repeated headers joined with `, `. */
function headerRecord(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The error's code when it is a stable one (ECONNREFUSED, ECONNRESET, ENOTFOUND...), else `NETWORK_ERROR`. */
export function errorCode(error: unknown): string {
  const code: unknown = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODE.test(code) ? code : FanOutReason.NETWORK_ERROR;
}

/** The status a non-2xx HTTP answer maps to: 4xx the peer refused; 5xx it is unavailable; 1xx/3xx is no answer. */
function statusFor(httpStatus: number): 'refused' | 'unavailable' | 'bad_data' {
  if (httpStatus >= 400 && httpStatus < 500) return 'refused';
  if (httpStatus >= 500) return 'unavailable';
  return 'bad_data';
}

function parseJson(buffer: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer)) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * POSTs once and resolves (never rejects) with the outcome. The body is read while counting
 * bytes and the request destroyed as soon as it exceeds `maxResponseBytes`, when the timer fires,
 * or when `signal` aborts. A non-2xx answer settles at its headers; its body is then drained in
 * the background (still bounded by size and timer) so the keep-alive socket can be reused.
 */
export function postOnce(post: PreparedPost, limits: AttemptLimits): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const left = limits.deadlineAt - started;
    const perPeerFirst = limits.perPeerTimeoutMs <= left;
    const timeoutMs = perPeerFirst ? limits.perPeerTimeoutMs : Math.max(0, left);
    let settled = false;
    let req: ClientRequest | undefined;

    const settle = (outcome: Omit<AttemptOutcome, 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, latencyMs: Math.round(performance.now() - started) });
    };
    const failed = (
      status: AttemptOutcome['status'],
      reason: string,
      httpStatus: number | null = null,
      responseHeaders: Record<string, string> = {},
    ): void => settle({ status, reason, httpStatus, body: null, responseHeaders });
    const stop = (): void => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
    };
    const cut = (reason: string): void => {
      stop();
      failed('timed_out', reason);
      req?.destroy();
    };
    const onAbort = (): void => cut(FanOutReason.ABORTED);
    const timer = setTimeout(() => cut(perPeerFirst ? FanOutReason.TIMEOUT : FanOutReason.DEADLINE), timeoutMs);

    if (limits.signal?.aborted) return cut(FanOutReason.ABORTED);
    limits.signal?.addEventListener('abort', onAbort, { once: true });

    const send = post.url.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      req = send(post.url, { method: 'POST', agent: limits.agent, headers: post.headers });
    } catch {
      stop();
      return failed('unavailable', FanOutReason.REQUEST_INVALID);
    }
    const sent = req;

    sent.on('error', (error) => {
      stop();
      failed('unavailable', errorCode(error));
    });
    // A close with nothing settled (should not happen, but nothing may hang): the connection went.
    sent.on('close', () => {
      stop();
      failed('unavailable', FanOutReason.ECONNRESET);
    });

    sent.on('response', (res: IncomingMessage) => {
      const httpStatus = res.statusCode ?? 0;
      const responseHeaders = headerRecord(res.headers);
      const tooLarge = (): void => {
        stop();
        failed('bad_data', FanOutReason.RESPONSE_TOO_LARGE, httpStatus, responseHeaders);
        sent.destroy();
      };
      res.on('error', (error) => {
        stop();
        failed('unavailable', errorCode(error), httpStatus, responseHeaders);
      });

      const declared = Number(res.headers['content-length']);
      const declaredTooLarge = Number.isFinite(declared) && declared > limits.maxResponseBytes;

      let received = 0;
      if (httpStatus < 200 || httpStatus >= 300) {
        failed(statusFor(httpStatus), httpStatusReason(httpStatus), httpStatus, responseHeaders);
        if (declaredTooLarge) {
          stop();
          return void sent.destroy();
        }
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > limits.maxResponseBytes) {
            stop();
            sent.destroy();
          }
        });
        res.on('end', stop);
        return;
      }

      if (declaredTooLarge) return tooLarge();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > limits.maxResponseBytes) return tooLarge();
        chunks.push(chunk);
      });
      res.on('end', () => {
        stop();
        const parsed = parseJson(Buffer.concat(chunks));
        if (!parsed.ok) return failed('bad_data', FanOutReason.NOT_JSON, httpStatus, responseHeaders);
        settle({ status: 'answered', reason: null, httpStatus, body: parsed.value, responseHeaders });
      });
    });

    sent.end(post.body);
  });
}
