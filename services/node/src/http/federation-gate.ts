/**
 * Admission of federated reads. A federated read costs this node a fan-out to every member and
 * checking every answer; past what the node can do within the federation's deadline, taking on
 * more only makes every read late, every member time out and every breaker open. So a /graphql
 * request whose document asks a field that fans out waits for one of MCX_FEDERATION_MAX_IN_FLIGHT
 * turns (at most MCX_FEDERATION_MAX_QUEUED waiting, each at most MCX_FEDERATION_QUEUE_WAIT_MS);
 * the rest are refused at once: 503, SERVICE_UNAVAILABLE, reason FEDERATION_BUSY, with
 * Retry-After. Other requests (local reads, writes, the peer endpoint) are not held here.
 *
 * The number of turns adapts to the node's own CPU. A federated read mostly waits on its members,
 * so while the event loop has time to spare, MCX_FEDERATION_MAX_IN_FLIGHT of them overlap. When the
 * loop is busy (its utilisation over the sampler's last window at BUSY or above), reads in hand
 * share the CPU and each one is slowed by all the others: every one of them is then late, where
 * one at a time would have answered the first ones in time. So while busy the turns halve each
 * window, down to MCX_FEDERATION_MIN_IN_FLIGHT, and the rest wait in turn (first come, first
 * served); once the loop is back under SPARE, they grow by one a window up to the maximum.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCode } from '@mcx/errors';
import { acquireEventLoopMonitor } from '@mcx/telemetry';

import { NodeErrorCode } from '../errors.js';
import type { FederationLoadConfig } from '../federation-load-config.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

/**
 * The Query fields that ask the members. A GraphQL name cannot be escaped or split, so a document
 * that asks one (under an alias or in a fragment too) names it: a document that merely mentions
 * one (in a comment) is counted as a federated read, never the other way round.
 */
const FEDERATED_FIELDS = /\b(federatedEpisodes|childHistory|federatedLocationsOfConcern)\b/;

/** Utilisation of the event loop at or above which the turns shrink, and under which they grow again. */
export const BUSY = 0.7;
export const SPARE = 0.5;
/** How often the turns may change (ms): the event-loop sampler's window. */
const ADJUST_MS = 500;

/** How busy the process's event loop has been lately (0 to 1): the shared sampler's last window. */
export interface LoopLoad {
  utilization(): number;
}

/** A counting gate with a bounded, time-limited queue, whose number of turns adapts to `loop`. */
export class AdmissionGate {
  private inFlight = 0;
  private limit: number;
  private adjustedAt: number;
  private readonly floor: number;
  private readonly waiting: { admit(): void; timer: NodeJS.Timeout }[] = [];
  /** While reads wait: looks again each window, so turns that grow reach them even if nothing enters or leaves. */
  private recheck: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: Pick<FederationLoadConfig, 'maxInFlight' | 'minInFlight' | 'maxQueued' | 'queueWaitMs'>,
    private readonly loop: LoopLoad | null = null,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limit = limits.maxInFlight;
    this.floor = Math.min(limits.minInFlight, limits.maxInFlight);
    this.adjustedAt = now();
  }

  /** The number of turns now: at most one change a window, from the loop's last figure. */
  private turns(): number {
    if (this.loop === null || this.floor === this.limits.maxInFlight) return this.limit;
    const t = this.now();
    if (t - this.adjustedAt < ADJUST_MS) return this.limit;
    this.adjustedAt = t;
    const u = this.loop.utilization();
    if (u >= BUSY) this.limit = Math.max(this.floor, Math.ceil(this.limit / 2));
    else if (u < SPARE) this.limit = Math.min(this.limits.maxInFlight, this.limit + 1);
    return this.limit;
  }

  /** Resolves true once admitted (then `leave()` exactly once), false when refused. */
  enter(): Promise<boolean> {
    const turns = this.turns();
    // Waiters first (the turns may have grown): a newcomer does not pass the queue.
    this.admitWaiting(turns);
    if (this.inFlight < turns && this.waiting.length === 0) {
      this.inFlight += 1;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.limits.maxQueued || this.limits.queueWaitMs === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve(true);
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i !== -1) this.waiting.splice(i, 1);
          resolve(false);
        }, this.limits.queueWaitMs),
      };
      this.waiting.push(waiter);
      this.recheck ??= setInterval(() => this.admitWaiting(this.turns()), ADJUST_MS).unref();
    });
  }

  leave(): void {
    this.inFlight -= 1;
    this.admitWaiting(this.turns());
  }

  /** Free turns pass straight to the waiters, first come first served (more than one when the turns have grown). */
  private admitWaiting(turns: number): void {
    while (this.inFlight < turns && this.waiting.length > 0) {
      this.inFlight += 1;
      this.waiting.shift()!.admit();
    }
    if (this.waiting.length === 0 && this.recheck !== null) {
      clearInterval(this.recheck);
      this.recheck = null;
    }
  }

  get load(): { inFlight: number; waiting: number; turns: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length, turns: this.limit };
  }
}

function documentOf(request: FastifyRequest): string | null {
  const fromBody = (request.body as { query?: unknown } | null | undefined)?.query;
  if (typeof fromBody === 'string') return fromBody;
  const fromUrl = (request.query as { query?: unknown } | null | undefined)?.query;
  return typeof fromUrl === 'string' ? fromUrl : null;
}

/** Holds federated reads on /graphql at the gate (before any GraphQL runs); register before the routes. */
export function registerFederationGate(server: FastifyInstance, limits: FederationLoadConfig): AdmissionGate {
  const monitor = acquireEventLoopMonitor();
  server.addHook('onClose', async () => monitor.release());
  const gate = new AdmissionGate(limits, { utilization: () => monitor.figures().utilization });
  server.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const document = documentOf(request);
    if (document === null || !FEDERATED_FIELDS.test(document)) return;
    if (!(await gate.enter())) {
      void reply.header('retry-after', String(limits.retryAfterSeconds));
      return sendRefusal(
        reply,
        new HttpRefusal(
          503,
          ErrorCode.SERVICE_UNAVAILABLE,
          'this node has as many federated reads in hand as it can answer in time; retry after the time in Retry-After',
          NodeErrorCode.FEDERATION_BUSY,
        ),
        'graphql',
      );
    }
    // Released once, when the response has gone or the connection closed under it.
    reply.raw.once('close', () => gate.leave());
  });
  return gate;
}
