/**
 * Admission of federated reads. A federated read costs this node a fan-out to every member and
 * checking every answer; past what the node can do within the federation's deadline, taking on
 * more only makes every read late, every member time out and every breaker open. So a /graphql
 * request whose document asks a field that fans out waits for one of MCX_FEDERATION_MAX_IN_FLIGHT
 * turns (at most MCX_FEDERATION_MAX_QUEUED waiting, each at most MCX_FEDERATION_QUEUE_WAIT_MS);
 * the rest are refused at once: 503, SERVICE_UNAVAILABLE, reason FEDERATION_BUSY, with
 * Retry-After. Other requests (local reads, writes, the peer endpoint) are not held here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCode } from '@mcx/errors';

import { NodeErrorCode } from '../errors.js';
import type { FederationLoadConfig } from '../federation-load-config.js';
import { HttpRefusal, sendRefusal } from './refusals.js';

/**
 * The Query fields that ask the members. A GraphQL name cannot be escaped or split, so a document
 * that asks one (under an alias or in a fragment too) names it: a document that merely mentions
 * one (in a comment) is counted as a federated read, never the other way round.
 */
const FEDERATED_FIELDS = /\b(federatedEpisodes|childHistory|federatedLocationsOfConcern)\b/;

/** A counting gate with a bounded, time-limited queue. */
export class AdmissionGate {
  private inFlight = 0;
  private readonly waiting: { admit(): void; timer: NodeJS.Timeout }[] = [];

  constructor(private readonly limits: Pick<FederationLoadConfig, 'maxInFlight' | 'maxQueued' | 'queueWaitMs'>) {}

  /** Resolves true once admitted (then `leave()` exactly once), false when refused. */
  enter(): Promise<boolean> {
    if (this.inFlight < this.limits.maxInFlight) {
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
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    // The turn passes straight to the next waiter; in flight stays the same.
    if (next) next.admit();
    else this.inFlight -= 1;
  }

  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
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
  const gate = new AdmissionGate(limits);
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
