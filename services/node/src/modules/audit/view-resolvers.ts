import type { QueryResolvers } from '../../__generated__/resolver-map-types.js';
import { BadUserInputError, identityInputError, linkageError } from '../../errors.js';
import { asAuditor, page, toGraphql } from './audit-graphql.js';

/** A window of at most a year, from before to. */
function window(from: string, to: string): { from: Date; to: Date } {
  const f = new Date(from);
  const t = new Date(to);
  if (!(f.getTime() <= t.getTime()) || t.getTime() - f.getTime() > 366 * 86_400_000)
    throw new BadUserInputError('from must be before to, at most a year apart');
  return { from: f, to: t };
}

const auditStatus: NonNullable<QueryResolvers['auditStatus']> = (_, __, ctx) =>
  asAuditor(ctx, 'auditStatus', [], () => ctx.services.audit.views.status());

const whoHasSeenChild: NonNullable<QueryResolvers['whoHasSeenChild']> = async (_, { identity, first, after }, ctx) => {
  const p = page(first, after);
  await ctx.access.require('audit.read', 'whoHasSeenChild');
  const found = await ctx.services.subjects.match(identity).catch(linkageError);
  if ('errors' in found) throw identityInputError(found.errors);
  const refs = found.matches.filter((m) => m.owner === ctx.services.node.forceCode).map((m) => m.subjectRef);
  return asAuditor(ctx, 'whoHasSeenChild', [], async () => {
    const { recordIds, rows } = await ctx.services.audit.views.readsOfSubjects(refs, { first: p.first + 1, afterSeq: p.afterSeq });
    const entries = rows.slice(0, p.first);
    const nextCursor = rows.length > p.first ? String(entries.at(-1)!.seq) : null;
    return { records: recordIds.length, entries: entries.map(toGraphql), nextCursor };
  });
};

const auditDisclosureCounts: NonNullable<QueryResolvers['auditDisclosureCounts']> = (_, args, ctx) => {
  const w = window(args.from, args.to);
  return asAuditor(ctx, 'auditDisclosureCounts', [], () => ctx.services.audit.views.disclosureCounts(w.from, w.to));
};

const auditReadsByHour: NonNullable<QueryResolvers['auditReadsByHour']> = (_, args, ctx) => {
  const w = window(args.from, args.to);
  return asAuditor(ctx, 'auditReadsByHour', [], () => ctx.services.audit.views.readsByHour(w.from, w.to));
};

export const viewResolvers = { auditStatus, whoHasSeenChild, auditDisclosureCounts, auditReadsByHour };
