/**
 * Alerts' GraphQL fields: the inbox (read guard, audited) and its acknowledgement, and the two
 * peer operations (mcx.holders/1, mcx.alert/1), for member nodes only. Each resolver guards,
 * parses its input, calls the alert service and shapes the answer.
 */
import { McxError } from '@mcx/errors';

import type { MutationResolvers, QueryResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import type { Context } from '../../context.js';
import { BadUserInputError, ForbiddenError, NotFoundError, toGraphQLError } from '../../errors.js';
import { checkKeys } from '../../federation/resolvers.js';
import { AlertErrorCode } from './alert-model.js';
import { checkExpiry, checkSubjectRef, type WatchCheck } from './watch-spec.js';

const MAX_PAGE = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** A signed message's bounds: the bytes of one alert, and one detached JWS. */
const MAX_BYTES = 16 * 1024;

/** An alert error as the caller sees it: not found, or a refused message, by its code. */
function alertError(err: unknown): never {
  if (err instanceof McxError && (err.code === AlertErrorCode.ALERT_NOT_FOUND || err.code === AlertErrorCode.WATCH_NOT_FOUND))
    throw new NotFoundError(err.message, { reason: err.code });
  if (err instanceof McxError && (err.code === AlertErrorCode.WATCH_NOT_YOURS || err.code === AlertErrorCode.WATCH_LIST_NOT_PERMITTED))
    throw new ForbiddenError(err.message, { reason: err.code });
  if (err instanceof McxError && (Object.values(AlertErrorCode) as string[]).includes(err.code))
    throw new BadUserInputError(err.message, { reason: err.code });
  return toGraphQLError(err);
}

/** The peer call of this request: only a member's request through the peer endpoint has one. */
function peerCall(ctx: Context) {
  if (!ctx.peerCall) throw new BadUserInputError('this field is answered through the peer protocol only');
  return ctx.peerCall;
}

const alerts: NonNullable<QueryResolvers['alerts']> = async (_, { after, first }, ctx) => {
  const read = await ctx.access.requireRead('alerts');
  const size = first ?? 50;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE}`);
  if (after != null && (!Number.isInteger(after) || after < 0)) throw new BadUserInputError('after must be an event number, 0 or above');
  return ctx.services.alerts.list(read, after ?? 0, size).catch(alertError);
};

const acknowledgeAlert: NonNullable<MutationResolvers['acknowledgeAlert']> = async (_, { id }, ctx) => {
  const read = await ctx.access.requireRead('acknowledgeAlert');
  if (!UUID.test(id)) throw new BadUserInputError('id must be an alert id', { field: 'id', reason: 'INVALID_ID' });
  return ctx.services.alerts.acknowledge(read, id).catch(alertError);
};

const peerHolders: NonNullable<QueryResolvers['peerHolders']> = async (_, { keys, withinDays }, ctx) => {
  const read = await ctx.access.requirePeer('peerHolders');
  if (!Number.isInteger(withinDays) || withinDays < 1 || withinDays > 366) throw new BadUserInputError('withinDays must be 1 to 366');
  const strong = checkKeys(keys).filter((k) => k.strength === 'strong');
  if (strong.length === 0) throw new BadUserInputError('keys must hold at least one strong linkage key');
  return ctx.services.alerts.holders(read, strong, withinDays, peerCall(ctx)).catch(alertError);
};

const peerAlert: NonNullable<MutationResolvers['peerAlert']> = async (_, { alert }, ctx) => {
  const read = await ctx.access.requirePeer('peerAlert');
  if (alert.bytes.length > MAX_BYTES || alert.signature.length > 1024) throw new BadUserInputError('the alert message is too large');
  return ctx.services.alerts.receive(read, { bytes: alert.bytes, signature: alert.signature }, peerCall(ctx)).catch(alertError);
};

/** A refused watch input, by its code (never echoing the value). */
function checked<T>(c: WatchCheck<T>, field: string): T {
  if ('refused' in c) throw new BadUserInputError(c.message, { field, reason: c.refused });
  return c.ok;
}

const watches: NonNullable<QueryResolvers['watches']> = async (_, { ended, all }, ctx) => {
  const read = await ctx.access.requireRead('watches');
  return ctx.services.alerts.watches.list(read, ended ?? false, all ?? false).catch(alertError);
};

const watchChild: NonNullable<MutationResolvers['watchChild']> = async (_, { subjectRef, expiresAt }, ctx) => {
  const read = await ctx.access.requireRead('watchChild');
  const ref = checked(checkSubjectRef(subjectRef), 'subjectRef');
  const until = checked(checkExpiry(expiresAt, new Date()), 'expiresAt');
  return ctx.services.alerts.watches.watch(read, ref, until).catch(alertError);
};

const renewWatch: NonNullable<MutationResolvers['renewWatch']> = async (_, { id, expiresAt }, ctx) => {
  const read = await ctx.access.requireRead('renewWatch');
  if (!UUID.test(id)) throw new BadUserInputError('id must be a watch id', { field: 'id', reason: 'INVALID_ID' });
  const until = checked(checkExpiry(expiresAt, new Date()), 'expiresAt');
  return ctx.services.alerts.watches.renew(read, id, until).catch(alertError);
};

const cancelWatch: NonNullable<MutationResolvers['cancelWatch']> = async (_, { id }, ctx) => {
  const read = await ctx.access.requireRead('cancelWatch');
  if (!UUID.test(id)) throw new BadUserInputError('id must be a watch id', { field: 'id', reason: 'INVALID_ID' });
  return ctx.services.alerts.watches.cancel(read, id).catch(alertError);
};

const alertDelivery: NonNullable<QueryResolvers['alertDelivery']> = async (_, __, ctx) => {
  await ctx.access.require('operator.admin', 'alertDelivery');
  return ctx.services.alerts.deliveryStatus();
};

export const resolvers = {
  Query: { alerts, peerHolders, watches, alertDelivery },
  Mutation: { acknowledgeAlert, peerAlert, watchChild, renewWatch, cancelWatch },
} satisfies Resolvers;
