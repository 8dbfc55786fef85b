/**
 * Subscription.alertAdded: the live alert stream. Served only by /graphql/stream (GraphQL over
 * Server-Sent Events, services/node/src/http/alert-stream-routes.ts), which gives the context its
 * `alertStream`; POST /graphql has none and is refused. The guard is the alerts query's, and every
 * alert is read through the alert service's list, so each is audited as alerts(after:) audits it.
 */
import { TokenErrorCode } from '@mcx/auth';
import { McxError } from '@mcx/errors';

import type { Resolvers, SubscriptionResolvers } from '../../__generated__/resolver-map-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { BadUserInputError, ServiceUnavailableError, UnauthenticatedError } from '../../errors.js';
import type { AlertModel } from './alert-model.js';
import { ownerOf } from './alert-owner.js';
import { AlertStreamErrorCode, type AlertStreamEvent, type AlertStreamLease, type AlertStreamRequest } from './alert-stream-model.js';

/** Alerts read from the inbox at a time, during catch-up. */
const PAGE = 100;

/** The context of a subscription on /graphql/stream. */
export type AlertStreamContext = Context & { alertStream?: AlertStreamRequest };

/**
 * Every alert after `after` in event-number order (at most `catchUp` of them on connect: the last
 * says catch-up was cut short when more are there, and the client reads those with
 * alerts(after:)), then each new one as its notification (or the poll) wakes the lease. The inbox
 * is read only when an alert this reader may see lies past the last one sent (another person's
 * WATCH alert does not count), so a stream writes an audit entry only for a read that can release
 * something. Nothing is read or sent before the previous event has been written (stream.ready), so
 * a client that does not read holds the stream, not the node's memory. Event numbers are dense
 * and visible in order (0015), so an alert at or below the highest number read first is never
 * passed over.
 */
async function* alertEvents(
  ctx: Context,
  read: AuthorisedRead,
  lease: AlertStreamLease,
  stream: AlertStreamRequest,
  after: number,
  catchUp: number,
): AsyncGenerator<AlertStreamEvent> {
  const reader = { user: ownerOf(read.viewer), everyone: read.auditsThisNode === true };
  let cursor = after;
  // Alerts still to be sent before the first wait (the catch-up); then there is no cap.
  let budget: number | null = catchUp;
  try {
    while (!lease.closed && !lease.expired) {
      const seen = lease.version;
      let top: number;
      let page: { nodes: AlertModel[] } = { nodes: [] };
      try {
        await stream.ready();
        if (lease.closed) return;
        top = await stream.lastEventNumber(reader);
        if (top > cursor) page = await ctx.services.alerts.list(read, cursor, budget === null ? PAGE : Math.min(PAGE, budget));
      } catch (err) {
        // The stream closed under the read (the client left, or the node is closing): it just ends.
        if (lease.closed) return;
        throw err;
      }
      if (top > cursor) {
        for (const alert of page.nodes) {
          await stream.ready();
          if (lease.closed) return;
          cursor = alert.eventNumber;
          if (budget !== null) budget--;
          // The catch-up's last: whatever this reader may see after it is left to alerts(after:).
          const truncated = budget === 0 && top > cursor;
          stream.sent(alert.eventNumber, truncated);
          yield { alertAdded: alert };
        }
        if (budget === 0) {
          budget = null;
          cursor = Math.max(cursor, top);
        } else if (page.nodes.length === PAGE) continue;
        // Nothing else up to `top` is this reader's: not read again.
        cursor = Math.max(cursor, top);
      }
      budget = null;
      await lease.wait(seen);
    }
    if (lease.expired && !lease.closed) yield { expired: true };
  } finally {
    lease.close();
  }
}

function openLease(stream: AlertStreamRequest, read: AuthorisedRead): AlertStreamLease {
  try {
    return stream.open(ownerOf(read.viewer));
  } catch (err) {
    if (err instanceof McxError && err.code === AlertStreamErrorCode.ALERT_STREAMS_PER_USER)
      throw new ServiceUnavailableError('You already have as many alert streams open as allowed: close one first', { reason: err.code });
    if (err instanceof McxError && err.code === AlertStreamErrorCode.ALERT_STREAMS_PER_NODE)
      throw new ServiceUnavailableError('This node serves as many alert streams as it can: try again later', { reason: err.code });
    throw err;
  }
}

const alertAdded: NonNullable<SubscriptionResolvers['alertAdded']> = {
  subscribe: async (_, { after }, context) => {
    const ctx = context as AlertStreamContext;
    const stream = ctx.alertStream;
    if (!stream)
      throw new BadUserInputError('Subscriptions are served as Server-Sent Events at /graphql/stream', {
        reason: AlertStreamErrorCode.SUBSCRIPTION_NEEDS_STREAM,
      });
    // The alerts query's guard, under the query's own name, so a refusal is audited alike.
    const read = await ctx.access.requireRead('alerts');
    if (after != null && (!Number.isInteger(after) || after < 0)) throw new BadUserInputError('after must be an event number, 0 or above');
    const from = Math.max(after ?? 0, stream.lastEventId ?? 0);
    return alertEvents(ctx, read, openLease(stream, read), stream, from, stream.catchUp);
  },
  resolve: (event: unknown) => {
    const e = event as AlertStreamEvent | undefined;
    // POST /graphql runs a subscription as a query, with no event: refused, with where to go.
    if (!e || (e.alertAdded === undefined && e.expired === undefined))
      throw new BadUserInputError('Subscriptions are served as Server-Sent Events at /graphql/stream', {
        reason: AlertStreamErrorCode.SUBSCRIPTION_NEEDS_STREAM,
      });
    if (e.expired)
      throw new UnauthenticatedError('The bearer token has expired: reconnect with a fresh token and the last event number seen', {
        reason: TokenErrorCode.TOKEN_EXPIRED,
      });
    return e.alertAdded;
  },
};

export const resolvers = { Subscription: { alertAdded } } satisfies Resolvers;
