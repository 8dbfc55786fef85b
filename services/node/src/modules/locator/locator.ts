/**
 * The record locator, wired from the node's configuration (MCX_LOCATOR, locator-config.ts): the
 * owner's filter publisher (serve, on) and the caller's refresher of the members' filters (on),
 * with a fan-out of its own (filters are larger than answers, and a slow filter download must not
 * open the breaker that live searches go through). Off, or not federated: neither; every member is
 * asked, exactly as without a locator.
 */
import { createFanOut } from '@mcx/federation';
import type { Logger } from '@mcx/logger';
import type { SigningKey, TrustManifestHolder } from '@mcx/signing';

import { FederationClient } from '../../federation/federation-client.js';
import type { LocatorConfig } from '../../locator-config.js';
import type { AuditService } from '../audit/audit-service.js';
import { FilterPublisher } from './filter-publisher.js';
import { FilterRefresher, waitMsFor } from './filter-refresher.js';
import type { LocatorStore } from './locator-store.js';

export interface LocatorDeps {
  config: LocatorConfig;
  forceCode: string;
  /** null: not federated. */
  holder: TrustManifestHolder | null;
  store: LocatorStore;
  audit: AuditService;
  keys: { auditCheckpoint: SigningKey<'audit-checkpoint'>; peerToken: SigningKey<'peer-token'> };
  federation: { peerTimeoutMs: number; breakerFailures: number; requireHttps: boolean };
  logger: Logger;
  now: () => Date;
}

export interface Locator {
  /** This node's filter, served through mcx.filter/2; null when it serves none. */
  publisher: FilterPublisher | null;
  /** The members' filters, for choosing whom to ask; null when the locator is not used. */
  view: FilterRefresher | null;
  start(): void;
  stop(): Promise<void>;
}

/** How long after its last successful check an owner still vouches for its filter: ten checks, at least 5 s. */
export function ownerStaleAfterMs(rebuildMs: number): number {
  return Math.max(10 * rebuildMs, 5_000);
}

/** A check's queries give up after half that, so one slow check leaves time for the next before the owner must refuse. */
export function checkTimeoutMs(rebuildMs: number): number {
  return Math.floor(ownerStaleAfterMs(rebuildMs) / 2);
}

export function createLocator(deps: LocatorDeps): Locator {
  const { config, holder } = deps;
  if (config.mode === 'off' || !holder) return { publisher: null, view: null, start: () => undefined, stop: async () => undefined };
  const publisher = new FilterPublisher({
    forceCode: deps.forceCode,
    store: deps.store,
    auditKey: deps.keys.auditCheckpoint,
    logger: deps.logger,
    now: deps.now,
    staleAfterMs: ownerStaleAfterMs(config.rebuildMs),
  });
  let view: FilterRefresher | null = null;
  let closeFanOut = async () => undefined as void;
  if (config.mode === 'on') {
    // A long poll is held up to waitMsFor(maxAge) at the owner, then answered within the usual time.
    const timeoutMs = Math.max(deps.federation.peerTimeoutMs, 5_000) + waitMsFor(config.maxAgeMs);
    // Polling is its own retry: a member down (or not started yet) is tried again a few polls later, not after the searches' breaker delay.
    const breaker = { consecutiveFailures: deps.federation.breakerFailures, halfOpenAfterMs: config.pollMs * 5 };
    // Base64url bits, the JWS and the receipt.
    const maxResponseBytes = Math.ceil((config.maxFilterBytes * 4) / 3) + 64 * 1024;
    const fanOut = createFanOut({ perPeerTimeoutMs: timeoutMs, overallDeadlineMs: timeoutMs, maxResponseBytes, breaker });
    const client = new FederationClient({
      forceCode: deps.forceCode,
      holder,
      peerTokenKey: deps.keys.peerToken,
      fanOut,
      nestedFanOut: fanOut,
      now: deps.now,
      requireHttps: deps.federation.requireHttps,
    });
    closeFanOut = () => fanOut.close();
    view = new FilterRefresher({
      forceCode: deps.forceCode,
      client,
      holder,
      audit: deps.audit,
      logger: deps.logger,
      maxFilterBytes: config.maxFilterBytes,
      maxAgeMs: config.maxAgeMs,
      idleAfterMs: config.idleAfterMs,
      now: deps.now,
    });
  }
  return {
    publisher,
    view,
    start() {
      publisher.start(config.rebuildMs);
      view?.start(config.pollMs);
    },
    async stop() {
      // No new asks; the long polls in flight are cut with the fan-out, then the loops end.
      view?.halt();
      await closeFanOut();
      await view?.stop();
      await publisher.stop();
    },
  };
}
