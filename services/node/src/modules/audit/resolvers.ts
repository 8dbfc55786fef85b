import { isAuditRecordId } from '@mcx/audit';
import { McxError } from '@mcx/errors';

import type { MutationResolvers, QueryResolvers, Resolvers } from '../../__generated__/resolver-map-types.js';
import type { Context } from '../../context.js';
import { malformedRecordId, NodeErrorCode, toGraphQLError } from '../../errors.js';
import { asAuditor, page, toGraphql } from './audit-graphql.js';
import type { AuditFilter } from './audit-store.js';
import { viewResolvers } from './view-resolvers.js';

async function list(ctx: Context, filter: AuditFilter, first: number | null | undefined, after: string | null | undefined) {
  const p = page(first, after);
  const rows = await ctx.services.audit.list(filter, { first: p.first + 1, afterSeq: p.afterSeq });
  const entries = rows.slice(0, p.first);
  return { entries: entries.map(toGraphql), nextCursor: rows.length > p.first ? String(entries[entries.length - 1]!.seq) : null };
}

const auditEntries: NonNullable<QueryResolvers['auditEntries']> = (_, { filter, first, after }, ctx) => {
  const f = filter ?? {};
  if (f.recordId && !isAuditRecordId(f.recordId)) throw malformedRecordId();
  return asAuditor(ctx, 'auditEntries', f.recordId ? [f.recordId] : [], () =>
    list(
      ctx,
      {
        actorSubject: f.actorSubject ?? null,
        actorForce: f.actorForce ?? null,
        purpose: f.purpose ?? null,
        caseRef: f.caseRef ?? null,
        recordId: f.recordId ?? null,
        requestingNode: f.requestingNode ?? null,
        action: f.action ? f.action.toLowerCase() : null,
        outcome: f.outcome ? f.outcome.toLowerCase() : null,
        from: f.from ? new Date(f.from) : null,
        to: f.to ? new Date(f.to) : null,
      },
      first,
      after,
    ),
  );
};

const auditDisclosures: NonNullable<QueryResolvers['auditDisclosures']> = (_, { first, after }, ctx) =>
  asAuditor(ctx, 'auditDisclosures', [], () => list(ctx, { actions: ['consultation', 'disclosure'], outcome: 'success' }, first, after));

const whoHasSeenRecord: NonNullable<QueryResolvers['whoHasSeenRecord']> = (_, { owner, id, first, after }, ctx) => {
  const recordId = `${owner}/${id}`;
  if (!isAuditRecordId(recordId)) throw malformedRecordId();
  return asAuditor(ctx, 'whoHasSeenRecord', [recordId], () =>
    list(ctx, { recordId, actions: ['consultation', 'disclosure', 'combination'], outcome: 'success' }, first, after),
  );
};

const auditAlerts: NonNullable<QueryResolvers['auditAlerts']> = (_, { from, to, perActorThreshold }, ctx) =>
  asAuditor(ctx, 'auditAlerts', [], async () => {
    const alerts = await ctx.services.audit.alerts({
      from: new Date(from),
      to: new Date(to),
      perActorThreshold: perActorThreshold ?? 50,
      caseRefPattern: ctx.caseRefPattern,
    });
    return alerts.map((a) => ({
      kind: a.kind,
      actorSubject: a.actor.subject,
      actorIssuer: a.actor.issuer,
      actorForce: a.actor.force,
      actorRequestingNode: a.actor.requestingNode,
      count: a.count,
      sampleSeqs: a.sampleSeqs,
    }));
  });

const auditIntegrity: NonNullable<QueryResolvers['auditIntegrity']> = (_, __, ctx) =>
  asAuditor(ctx, 'auditIntegrity', [], async () => {
    const r = await ctx.services.audit.integrity();
    return {
      status: r.status,
      entries: r.entries,
      verifiedThrough: r.verifiedThrough,
      unverifiedAfter: r.unverifiedAfter,
      checkpointsChecked: r.checkpointsChecked,
      firstBadSeq: r.firstBad?.seq ?? null,
      firstBadReason: r.firstBad?.reason ?? null,
    };
  });

const auditExport: NonNullable<QueryResolvers['auditExport']> = (_, __, ctx) =>
  asAuditor(ctx, 'auditExport', [], () => ctx.services.audit.exportJsonl());

const auditCheckpoint: NonNullable<MutationResolvers['auditCheckpoint']> = async (_, __, ctx) => {
  const viewer = await ctx.access.requireViewer('auditCheckpoint');
  // An operator signs as part of running the node, an auditor to close a review: of this node's own force, either.
  await ctx.access.require(viewer.roles.includes('operator') ? 'operator.admin' : 'audit.read', 'auditCheckpoint');
  try {
    return await ctx.services.audit.checkpoint();
  } catch (err) {
    // The node found the chain broken: it signs nothing, and says where (seq and reason only).
    if (err instanceof McxError && err.code === NodeErrorCode.AUDIT_CHAIN_BROKEN) toGraphQLError(err);
    throw err;
  }
};

export const resolvers = {
  Query: { auditEntries, auditDisclosures, whoHasSeenRecord, auditAlerts, auditIntegrity, auditExport, ...viewResolvers },
  Mutation: { auditCheckpoint },
} satisfies Resolvers;
