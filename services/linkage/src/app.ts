import type { IncomingMessage, ServerResponse } from 'node:http';

import { isMcxError } from '@mcx/errors';
import { LinkageErrorCode, oprfOffThread, oprfWorkerFailure, type LinkageKey } from '@mcx/linkage';
import type { Logger } from '@mcx/logger';
import { ManifestErrorCode, NodeTokenErrorCode, verifyNodeToken, type TrustManifestHolder } from '@mcx/signing';

import type { LinkageConfig } from './config.js';
import type { LinkageDb } from './db/index.js';
import { LinkageServiceErrorCode } from './errors.js';
import { decodeElements, parseEvaluateRequest } from './evaluate-request.js';
import { bearerToken, HttpError, readJsonBody, sendError, sendJson } from './http.js';
import type { LinkageKeyring } from './keyring.js';
import { KeyRateLimiter, ReplayStore } from './rate-limit.js';

/** Clock skew allowed on node tokens, in seconds. */
const TOKEN_LEEWAY_SEC = 5;

/** What the linkage app needs; singletons are made once in `startLinkageService` and passed in. */
export interface LinkageAppDeps {
  config: Pick<LinkageConfig, 'audience' | 'ratePerSecond' | 'burst' | 'maxBatch'>;
  holder: TrustManifestHolder;
  keys: LinkageKeyring;
  /** The linkage database: rate buckets and used tokens, shared by every replica. */
  store: Pick<LinkageDb, 'db' | 'sql'>;
  logger: Logger;
  /** The clock (tokens, buckets, log lines); tests freeze it. */
  now?: () => Date;
}

/** The linkage service without its HTTP shell: a node:http request handler. */
export interface LinkageApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Deletes the used tokens that can no longer verify (expired beyond the leeway); returns how many. */
  sweep(): Promise<number>;
  close(): void;
}

/** The outcome recorded for every evaluate call. */
type Outcome = 'evaluated' | 'rate_limited' | 'refused';

/** Builds the linkage app: OPRF evaluation for verified members, rate-limited and logged per member. */
export function createLinkageApp(deps: LinkageAppDeps): LinkageApp {
  const { config, holder, keys, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const limiter = new KeyRateLimiter(deps.store, { ratePerSecond: config.ratePerSecond, burst: config.burst, now });
  const replays = new ReplayStore(deps.store);
  let closed = false;

  /** Runs a statement on the linkage database; if it cannot answer, the call is refused, never served unchecked. */
  async function stored<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      logger.error({ err }, 'linkage database unavailable');
      throw new HttpError(503, LinkageServiceErrorCode.STORE_UNAVAILABLE, 'the service cannot reach its database; retry later');
    }
  }

  async function authenticate(req: IncomingMessage): Promise<string> {
    const token = bearerToken(req);
    if (token === null)
      throw new HttpError(401, LinkageServiceErrorCode.NODE_TOKEN_MISSING, 'a node token is required (Authorization: Bearer)');
    const at = now();
    let verified;
    try {
      verified = verifyNodeToken(token, holder, { audience: config.audience, now: at, leewaySec: TOKEN_LEEWAY_SEC });
    } catch (err) {
      if (isMcxError(err, NodeTokenErrorCode)) throw new HttpError(401, err.code, 'the node token was refused');
      if (isMcxError(err, ManifestErrorCode)) throw new HttpError(503, err.code, 'no usable trust manifest');
      throw err;
    }
    if (!(await stored(() => replays.firstUse(verified.member, verified.jti, new Date(verified.exp * 1000))))) {
      throw new HttpError(401, LinkageServiceErrorCode.NODE_TOKEN_REPLAYED, 'the node token was already used');
    }
    return verified.member;
  }

  function keyFor(version: string | undefined): LinkageKey {
    const key = version === undefined ? keys.active : keys.get(version);
    if (key === undefined)
      throw new HttpError(400, LinkageServiceErrorCode.UNKNOWN_KEY_VERSION, 'the service holds no key of that version');
    return key;
  }

  async function evaluate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call: { member: string | null; count: number | null; keyVersion: string | null } = {
      member: null,
      count: null,
      keyVersion: null,
    };
    // One line per call: the operator's record of who asked for how many keys. Never an element.
    const record = (outcome: Outcome, extra: Record<string, unknown> = {}) =>
      logger.info({ event: 'linkage.evaluate', ...call, outcome, at: now().toISOString(), ...extra }, 'linkage call');
    try {
      call.member = await authenticate(req);
      const request = parseEvaluateRequest(await readJsonBody(req), config.maxBatch);
      call.count = request.blinded.length;
      const key = keyFor(request.keyVersion);
      call.keyVersion = key.version;
      const member = call.member;
      const count = call.count;
      const taken = await stored(() => limiter.take(member, count));
      if (!taken.ok) {
        record('rate_limited', { status: 429, retryAfterSec: taken.retryAfterSec });
        const retryAfter = String(taken.retryAfterSec);
        return sendError(
          res,
          new HttpError(429, LinkageServiceErrorCode.RATE_LIMITED, 'too many linkage keys; retry later', { 'retry-after': retryAfter }),
        );
      }
      let evaluated: Uint8Array[];
      try {
        // On the OPRF worker thread: this loop goes on taking requests meanwhile.
        evaluated = await oprfOffThread.evaluate(key, decodeElements(request.blinded));
      } catch (err) {
        if (isMcxError(err, LinkageErrorCode) && err.code === LinkageErrorCode.LINKAGE_BLINDED_INVALID) {
          throw new HttpError(400, LinkageServiceErrorCode.BLINDED_INVALID, 'a blinded element is not a valid ristretto255 element');
        }
        // The keys taken from the member's bucket are not given back: a busy service is no way round its rate.
        if (isMcxError(err, LinkageErrorCode) && err.code === LinkageErrorCode.LINKAGE_BUSY)
          throw new HttpError(503, LinkageServiceErrorCode.EVALUATION_BUSY, 'the service is evaluating as fast as it can; retry shortly', {
            'retry-after': '1',
          });
        if (isMcxError(err, LinkageErrorCode) && err.code === LinkageErrorCode.LINKAGE_WORKER_UNAVAILABLE) {
          logger.error({ code: err.code }, err.message);
          throw new HttpError(503, LinkageServiceErrorCode.EVALUATION_UNAVAILABLE, 'the service cannot evaluate now; retry later');
        }
        throw err;
      }
      sendJson(res, 200, { keyVersion: key.version, evaluated: evaluated.map((e) => Buffer.from(e).toString('base64url')) });
      record('evaluated', { status: 200 });
    } catch (err) {
      const error = err instanceof HttpError ? err : new HttpError(500, LinkageServiceErrorCode.INTERNAL_SERVER_ERROR, 'internal error');
      if (!(err instanceof HttpError)) logger.error({ err }, 'linkage evaluation failed');
      record('refused', { status: error.status, code: error.code });
      // An unread body may still be arriving: do not keep the connection for the next request.
      if (!req.readableEnded) error.headers.connection = 'close';
      sendError(res, error);
    }
  }

  function health(res: ServerResponse): void {
    // A replica whose OPRF worker has just failed is taken out of the load balancer until it is started afresh.
    const worker = oprfWorkerFailure();
    if (worker)
      return sendError(
        res,
        new HttpError(503, LinkageServiceErrorCode.EVALUATION_UNAVAILABLE, `the OPRF worker thread is unavailable (${worker})`),
      );
    try {
      const { version, status } = holder.status();
      sendJson(res, 200, { status: 'ok', manifest: { version, status }, activeKeyVersion: keys.active.version });
    } catch (err) {
      const code = isMcxError(err, ManifestErrorCode) ? err.code : LinkageServiceErrorCode.MANIFEST_UNUSABLE;
      sendError(res, new HttpError(503, code, 'no usable trust manifest'));
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const routes: Record<string, [string, () => void | Promise<void>]> = {
      '/healthz': ['GET', () => health(res)],
      '/v1/keys': ['GET', () => sendJson(res, 200, { active: keys.active.version, versions: keys.versions })],
      '/v1/evaluate': ['POST', () => evaluate(req, res)],
    };
    const entry = routes[path];
    if (entry === undefined) return sendError(res, new HttpError(404, LinkageServiceErrorCode.NOT_FOUND, 'no such endpoint'));
    const [method, run] = entry;
    if (req.method !== method)
      return sendError(res, new HttpError(405, LinkageServiceErrorCode.METHOD_NOT_ALLOWED, `use ${method}`, { allow: method }));
    if (closed)
      return sendError(
        res,
        new HttpError(503, LinkageServiceErrorCode.SERVICE_UNAVAILABLE, 'the service is shutting down', { connection: 'close' }),
      );
    await run();
  }

  return {
    sweep: () => replays.sweep(now(), TOKEN_LEEWAY_SEC),
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        logger.error({ err }, 'linkage request failed');
        if (!res.headersSent) sendError(res, new HttpError(500, LinkageServiceErrorCode.INTERNAL_SERVER_ERROR, 'internal error'));
        else res.destroy();
      });
    },
    close() {
      closed = true;
    },
  };
}
