import { GraphQLError } from 'graphql';
import type { StoredEntry } from '@mcx/audit';
import type { Context } from '../../context.js';
import type { McxAuditAction, McxAuditOutcome, MutationResolvers, QueryResolvers } from '../../__generated__/resolvers-types.js';
import type { AuditFilter } from './audit-store.js';

const MAX_PAGE = 1000;

function page(first: number | null | undefined, after: string | null | undefined): { first: number; afterSeq: number | null } {
  const size = first ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}`, { extensions: { code: 'BAD_USER_INPUT' } });
  const afterSeq = after == null ? null : Number(after);
  if (afterSeq !== null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw new GraphQLError('after is not a cursor of this log', { extensions: { code: 'BAD_USER_INPUT' } });
  return { first: size, afterSeq };
}

function toGraphql(s: StoredEntry) {
  const e = s.entry;
  return {
    seq: s.seq,
    at: e.at,
    action: e.action.toUpperCase() as McxAuditAction,
    actor: e.actor,
    requestingNode: e.requestingNode,
    purpose: e.purpose,
    caseRef: e.caseRef,
    operation: e.query.operation,
    queryRecordIds: e.query.recordIds,
    recordIds: e.recordIds,
    outcome: e.outcome.toUpperCase() as McxAuditOutcome,
    reason: e.reason,
    prevHash: s.prevHash,
    hash: s.hash,
  };
}

async function list(ctx: Context, filter: AuditFilter, first: number | null | undefined, after: string | null | undefined) {
  const p = page(first, after);
  const rows = await ctx.services.audit.list(filter, { first: p.first + 1, afterSeq: p.afterSeq });
  const entries = rows.slice(0, p.first);
  return { entries: entries.map(toGraphql), nextCursor: rows.length > p.first ? String(entries[entries.length - 1]!.seq) : null };
}

/** An auditor's own use of the log is audited too. */
async function auditorAction(ctx: Context, operation: string, recordIds: string[] = []) {
  const viewer = await ctx.access.require('audit.read', operation);
  await ctx.auditRead({ viewer, requestingNode: null, purpose: 'AUDIT_REVIEW', caseRef: null }, operation, recordIds, recordIds);
  return viewer;
}

const auditEntries: NonNullable<QueryResolvers['auditEntries']> = async (_, { filter, first, after }, ctx) => {
  await auditorAction(ctx, 'auditEntries');
  const f = filter ?? {};
  return list(
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
  );
};

const auditDisclosures: NonNullable<QueryResolvers['auditDisclosures']> = async (_, { first, after }, ctx) => {
  await auditorAction(ctx, 'auditDisclosures');
  return list(ctx, { actions: ['consultation', 'disclosure'], outcome: 'success' }, first, after);
};

const whoHasSeenRecord: NonNullable<QueryResolvers['whoHasSeenRecord']> = async (_, { owner, id, first, after }, ctx) => {
  const recordId = `${owner}/${id}`;
  await auditorAction(ctx, 'whoHasSeenRecord', [recordId]);
  return list(ctx, { recordId, actions: ['consultation', 'disclosure', 'combination'], outcome: 'success' }, first, after);
};

const auditAlerts: NonNullable<QueryResolvers['auditAlerts']> = async (_, { from, to, perActorThreshold }, ctx) => {
  await auditorAction(ctx, 'auditAlerts');
  const alerts = await ctx.services.audit.alerts({ from: new Date(from), to: new Date(to), perActorThreshold: perActorThreshold ?? 50, caseRefPattern: ctx.caseRefPattern });
  return alerts.map((a) => ({ kind: a.kind, actorSubject: a.actor.subject, actorForce: a.actor.force, count: a.count, sampleSeqs: a.sampleSeqs }));
};

const auditIntegrity: NonNullable<QueryResolvers['auditIntegrity']> = async (_, __, ctx) => {
  await auditorAction(ctx, 'auditIntegrity');
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
};

const auditExport: NonNullable<QueryResolvers['auditExport']> = async (_, __, ctx) => {
  await auditorAction(ctx, 'auditExport');
  return ctx.services.audit.exportJsonl();
};

export const auditCheckpoint: NonNullable<MutationResolvers['auditCheckpoint']> = async (_, __, ctx) => {
  const viewer = await ctx.access.requireViewer('auditCheckpoint');
  if (!viewer.roles.includes('auditor') && !viewer.roles.includes('operator')) await ctx.access.require('audit.read', 'auditCheckpoint');
  return ctx.services.audit.checkpoint();
};

export const queries = { auditEntries, auditDisclosures, whoHasSeenRecord, auditAlerts, auditIntegrity, auditExport };
