/**
 * The record locator's peer operation (mcx.filter/2): this node's membership filter, for a member
 * node asking as itself, never for an investigator, the operator or anyone off the manifest.
 * Every request is audited (a DISCLOSURE naming the member, with the caller's entry), a
 * not-modified answer too.
 */
import type { QueryResolvers } from '../../__generated__/resolver-map-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { Context } from '../../context.js';
import { BadUserInputError, ForbiddenError, ServiceUnavailableError } from '../../errors.js';
import { committed } from '../audit/read-audit.js';

/** The locator's own refusals. */
export const LocatorErrorCode = {
  /** This node builds no membership filter (MCX_LOCATOR=off). */
  LOCATOR_OFF: 'LOCATOR_OFF',
  /** Only a member node asking as itself may download a filter. */
  LOCATOR_NODE_ONLY: 'LOCATOR_NODE_ONLY',
  /** This node's last successful check of its keys is too old to vouch for its filter; ask it as if it served none. */
  LOCATOR_STALE: 'LOCATOR_STALE',
  /** The same filter version's bits again within FULL_REPEAT_MS of this member's last download: send `known`. */
  LOCATOR_TOO_FREQUENT: 'LOCATOR_TOO_FREQUENT',
} as const;
export type LocatorErrorCode = (typeof LocatorErrorCode)[keyof typeof LocatorErrorCode];

/** The longest `waitMs` a member may ask for (this node holds at most MAX_HOLD_MS of it). */
const MAX_WAIT_ASKED_MS = 30_000;

/** The audit entry of one filter request: a disclosure (NOT_MODIFIED when only the version was confirmed), or a refusal. */
function auditFilter(ctx: Context, read: AuthorisedRead, reason: string | null, recordIds: string[]) {
  const refused = reason !== null && reason !== 'NOT_MODIFIED';
  return committed(() =>
    ctx.services.audit.record({
      action: refused ? 'authorisation_failure' : 'disclosure',
      viewer: read.viewer,
      requestingNode: read.requestingNode,
      purpose: read.purpose,
      caseRef: read.caseRef,
      linkageDigest: null,
      operation: 'peerFilter',
      queryIds: [],
      recordIds,
      outcome: refused ? 'refused' : 'success',
      reason,
      peerEntryId: ctx.peerCall?.callerEntry ?? null,
    }),
  );
}

/** Refuses (audited) anyone but a member node asking as itself: an investigator's request relayed by a member too. */
async function requireMemberNode(ctx: Context): Promise<AuthorisedRead> {
  const read = await ctx.access.requirePeer('peerFilter');
  const asItself = read.requestingNode !== null && read.viewer.subject === `node:${read.requestingNode}`;
  if (ctx.peerCall && asItself && read.requester.force === read.requestingNode) return read;
  await auditFilter(ctx, read, LocatorErrorCode.LOCATOR_NODE_ONLY, []);
  throw new ForbiddenError('Only a member node, asking as itself, may download a membership filter', {
    reason: LocatorErrorCode.LOCATOR_NODE_ONLY,
  });
}

/** The publisher's answer when it may be sent; its refusals audited and thrown. */
async function servable<A extends object>(
  ctx: Context,
  read: AuthorisedRead,
  answer: A | { tooFrequent: true } | { stale: true; checkedAt: Date | null },
): Promise<A> {
  if ('tooFrequent' in answer) {
    await auditFilter(ctx, read, LocatorErrorCode.LOCATOR_TOO_FREQUENT, []);
    throw new ForbiddenError('This filter version was downloaded moments ago: ask with the version held (known)', {
      reason: LocatorErrorCode.LOCATOR_TOO_FREQUENT,
    });
  }
  if ('stale' in answer) {
    await auditFilter(ctx, read, LocatorErrorCode.LOCATOR_STALE, []);
    const last = answer.checkedAt ? `last checked ${answer.checkedAt.toISOString()}` : 'never checked';
    throw new ServiceUnavailableError(`This node cannot vouch for its membership filter (keys ${last})`, {
      reason: LocatorErrorCode.LOCATOR_STALE,
    });
  }
  return answer;
}

const peerFilter: NonNullable<QueryResolvers['peerFilter']> = async (_, { known, waitMs }, ctx: Context) => {
  const read = await requireMemberNode(ctx);
  const publisher = ctx.services.locatorFilter;
  if (!publisher) {
    await auditFilter(ctx, read, LocatorErrorCode.LOCATOR_OFF, []);
    throw new ServiceUnavailableError('This node serves no membership filter (MCX_LOCATOR=off)', { reason: LocatorErrorCode.LOCATOR_OFF });
  }
  if (known != null && (!Number.isSafeInteger(known) || known < 0))
    throw new BadUserInputError('known must be a filter version', { field: 'known', reason: 'INVALID_VERSION' });
  if (waitMs != null && (waitMs < 0 || waitMs > MAX_WAIT_ASKED_MS))
    throw new BadUserInputError(`waitMs must be 0 to ${MAX_WAIT_ASKED_MS}`, { field: 'waitMs', reason: 'INVALID_WAIT' });
  // A long poll: the version held is current, so the answer waits until it changes (or this node's hold is up). Audited when answered.
  // Never past the node token's expiry: the answer goes out while the token that asked for it is still valid.
  const tokenLeft = (ctx.peerCall?.expiresAt ?? 0) - Date.now() - 1000;
  if (known != null && waitMs) await publisher.hold(read.requestingNode!, known, Math.min(waitMs, tokenLeft));
  const answer = await servable(ctx, read, await publisher.answer(read.requestingNode!, known ?? null));
  const entry = await auditFilter(ctx, read, answer.notModified ? 'NOT_MODIFIED' : null, [`filter/${answer.version}`]);
  ctx.peerCall!.entry = { id: `${ctx.forceCode}:${entry.seq}`, hash: entry.hash };
  if (!answer.notModified) publisher.delivered(read.requestingNode!, answer.version);
  return answer;
};

export const resolvers = { Query: { peerFilter } };
