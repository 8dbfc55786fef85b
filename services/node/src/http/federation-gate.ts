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
 * loop is busy (its utilisation since the gate last looked, at least LOOK_MS before, at BUSY or
 * more), reads in hand share the CPU and each one is slowed by all the others: every one of them
 * is then late, where one at a time would have answered the first ones in time. So while busy the
 * turns halve at each look (every LOOK_MS at most) down to MCX_FEDERATION_MIN_IN_FLIGHT (halving
 * each half-second took a second or more to get there, and the reads that arrived meanwhile were
 * all late), and the rest wait in turn (first come, first served); while the loop is under SPARE
 * (or under BUSY with no more reads than the minimum to serve), they grow by one every GROW_MS up
 * to the maximum. They shrink only while more federated reads than the minimum compete: other work
 * (answering peers, refusing a flood) never shrinks them, and holds them down only while it keeps
 * the loop busy itself.
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

/** Utilisation of the event loop at or above which the turns shrink, and under which they grow again. */
export const BUSY = 0.7;
export const SPARE = 0.5;
/** The shortest span the gate judges the loop over (ms), and how often it looks while reads wait. */
const LOOK_MS = 100;
/** Spare time (ms, the loop under SPARE) that earns one more turn. */
const GROW_MS = 500;

/** How busy the process's event loop has been since the gate last looked. */
export interface LoopLoad {
  /**
   * Utilisation (0 to 1) over the time since the last look that returned, and that time (ms); null,
   * and nothing taken, when less than `minMs` has passed.
   */
  look(minMs: number): { utilization: number; ms: number } | null;
}

/** This process's event loop, from Node's own counters: no timer, no sampler. */
export function processLoop(): LoopLoad {
  let last = performance.eventLoopUtilization();
  return {
    look(minMs) {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, last);
      const ms = d.idle + d.active;
      if (ms < minMs) return null;
      last = now;
      return { utilization: d.utilization, ms };
    },
  };
}

interface Waiter {
  admit(): void;
  timer: NodeJS.Timeout;
}

/** A counting gate with a bounded, time-limited queue, whose number of turns adapts to `loop`. */
export class AdmissionGate {
  private inFlight = 0;
  private limit: number;
  /** Spare time seen since the turns last grew or dropped (ms). */
  private spareMs = 0;
  private readonly floor: number;
  private readonly waiting: Waiter[] = [];
  /** While reads wait: looks again every LOOK_MS, so turns that grow reach them even if nothing enters or leaves. */
  private recheck: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: Pick<FederationLoadConfig, 'maxInFlight' | 'minInFlight' | 'maxQueued' | 'queueWaitMs'>,
    private readonly loop: LoopLoad | null = null,
  ) {
    this.limit = limits.maxInFlight;
    this.floor = Math.min(limits.minInFlight, limits.maxInFlight);
  }

  /**
   * The number of turns now, judged over the time since the last look (at least LOOK_MS). While the
   * loop is busy and more federated reads than the minimum compete (in hand, waiting, or
   * `arriving`), they halve at each look down to the minimum: from the maximum of 8 to 2 in two
   * looks. They grow by one for every GROW_MS the loop spent under SPARE, or under BUSY with no
   * more reads than the minimum to serve: load of any other kind (peers' requests, refused tokens)
   * never shrinks them and holds them down only while it keeps the loop busy itself; a node that has
   * been idle is back at the maximum at its next look. While busy they never grow: a node serving
   * one or two reads at a time at 80% would otherwise creep back to the maximum between bursts, and
   * the next burst would share the CPU again.
   */
  private turns(arriving = 0): number {
    if (this.loop === null || this.floor === this.limits.maxInFlight) return this.limit;
    const seen = this.loop.look(LOOK_MS);
    if (seen === null) return this.limit;
    const competing = this.inFlight + this.waiting.length + arriving > this.floor;
    if (seen.utilization >= BUSY && competing) {
      this.limit = Math.max(this.floor, Math.ceil(this.limit / 2));
      this.spareMs = 0;
    } else if (seen.utilization < SPARE || (!competing && seen.utilization < BUSY)) {
      this.spareMs += seen.ms;
      const grown = Math.floor(this.spareMs / GROW_MS);
      if (grown > 0) {
        this.limit = Math.min(this.limits.maxInFlight, this.limit + grown);
        this.spareMs -= grown * GROW_MS;
      }
    }
    return this.limit;
  }

  /**
   * Resolves true once admitted (then `leave()` exactly once), false when refused. A read whose
   * `signal` aborts while it waits (its client has gone) leaves the queue and resolves false.
   */
  enter(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const turns = this.turns(1);
    // Waiters first (the turns may have grown): a newcomer does not pass the queue.
    this.admitWaiting(turns);
    if (this.inFlight < turns && this.waiting.length === 0) {
      this.inFlight += 1;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.limits.maxQueued || this.limits.queueWaitMs === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (admitted: boolean) => {
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', gone);
        resolve(admitted);
      };
      const drop = () => {
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        done(false);
      };
      const gone = () => drop();
      const waiter: Waiter = { admit: () => done(true), timer: setTimeout(drop, this.limits.queueWaitMs) };
      signal?.addEventListener('abort', gone, { once: true });
      this.waiting.push(waiter);
      this.recheck ??= setInterval(() => this.admitWaiting(this.turns()), LOOK_MS).unref();
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

/** The release of each admitted request's turn: once, whichever comes first. */
const turnsHeld = new WeakMap<FastifyRequest, () => void>();

/**
 * Gives back the turn of an admitted federated read, if it holds one (a no-op otherwise, and the
 * second time). The /graphql handler calls it when its read has ended, answered or not.
 */
export function releaseTurn(request: FastifyRequest): void {
  const release = turnsHeld.get(request);
  turnsHeld.delete(request);
  release?.();
}

/**
 * The documents a /graphql request may run: the body's `query`, and for GET every `query` in the
 * URL, read both as Fastify parsed it and as Apollo will (URLSearchParams: Fastify gives a value
 * with one bad percent-escape back undecoded, where Apollo decodes the valid ones, so a name
 * spelt with escapes would pass the gate and still run).
 */
function documentsOf(request: FastifyRequest): string[] {
  const fromBody = (request.body as { query?: unknown } | null | undefined)?.query;
  const documents = typeof fromBody === 'string' ? [fromBody] : [];
  const fromUrl = (request.query as { query?: unknown } | null | undefined)?.query;
  if (typeof fromUrl === 'string') documents.push(fromUrl);
  else if (Array.isArray(fromUrl)) documents.push(...fromUrl.filter((q): q is string => typeof q === 'string'));
  const search = request.raw.url?.indexOf('?') ?? -1;
  if (search !== -1) documents.push(...new URLSearchParams(request.raw.url!.slice(search)).getAll('query'));
  return documents;
}

/**
 * Holds federated reads on /graphql at the gate (before any GraphQL runs); register before the
 * routes. A turn is held while the read runs: given back when the handler ends (`releaseTurn`), or
 * when the response has gone; a client that hangs up does not free it while its read still runs,
 * but `releaseAfterCloseMs` after the connection closed (the federation's deadline and a margin,
 * which bounds the fan-out but not the local work after it) it is given back whatever happened.
 */
export function registerFederationGate(
  server: FastifyInstance,
  limits: FederationLoadConfig,
  opts: { releaseAfterCloseMs: number },
): AdmissionGate {
  const gate = new AdmissionGate(limits, processLoop());
  server.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url !== '/graphql') return;
    if (!documentsOf(request).some((d) => FEDERATED_FIELDS.test(d))) return;
    // A client that hangs up while its read waits leaves the queue: no turn, and no read run for
    // nobody. The socket is watched too: a request queued behind others on one connection
    // (pipelined) sees no close of its own response.
    const socket = request.raw.socket;
    const hungUp = new AbortController();
    const onClose = () => hungUp.abort();
    reply.raw.once('close', onClose);
    socket.once('close', onClose);
    const admitted = await gate.enter(socket.destroyed ? AbortSignal.abort() : hungUp.signal);
    reply.raw.removeListener('close', onClose);
    socket.removeListener('close', onClose);
    if (hungUp.signal.aborted || reply.raw.destroyed || socket.destroyed) {
      if (admitted) gate.leave();
      // Nobody to answer: the handler is not run and nothing is written.
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    if (!admitted) {
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
    let released = false;
    let fallback: NodeJS.Timeout | null = null;
    turnsHeld.set(request, () => {
      if (released) return;
      released = true;
      if (fallback) clearTimeout(fallback);
      gate.leave();
    });
    reply.raw.once('close', () => {
      if (!released) fallback = setTimeout(() => releaseTurn(request), opts.releaseAfterCloseMs).unref();
    });
  });
  // A request refused or failed after admission (before or without the handler) gives its turn back with its response.
  server.addHook('onResponse', async (request) => releaseTurn(request));
  return gate;
}
