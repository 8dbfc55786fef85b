/**
 * childHistory and federatedLocationsOfConcern: the resolvers guard, parse the input and call
 * a service; HistoryService builds the child's history (its federated reads share one deadline),
 * FederatedReadService asks for and audits each read.
 */
import { GraphQLError } from 'graphql';

import type {
  McxHistoryAssociateResolvers,
  McxIncidentResolvers,
  McxIncidentSourceResolvers,
  McxLocationOfConcernNearResolvers,
  QueryResolvers,
} from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { federatedReads } from '../../federation/federated-resolvers.js';
import { confirmWithOwner } from './history-model.js';
import { HistoryService } from './history-service.js';

/** The history service over this process's services (it holds no state of its own). */
function historyService(ctx: Context): HistoryService {
  return new HistoryService({ reads: federatedReads(ctx), rules: ctx.services.history });
}

export const childHistory: NonNullable<QueryResolvers['childHistory']> = async (_, { identity }, ctx) => {
  const read = await ctx.access.requireRead('childHistory');
  return historyService(ctx).childHistory(read, identity);
};

export const federatedLocationsOfConcern: NonNullable<QueryResolvers['federatedLocationsOfConcern']> = async (
  _,
  { near, concerns },
  ctx,
) => {
  const read = await ctx.access.requireRead('federatedLocationsOfConcern');
  if (!(Math.abs(near.lat) <= 90 && Math.abs(near.lon) <= 180 && near.radiusMetres > 0 && near.radiusMetres <= 50_000)) {
    throw new GraphQLError('near must be a WGS84 point with a radius above 0 and up to 50 km', {
      extensions: { code: 'BAD_USER_INPUT', field: 'near' },
    });
  }
  const answer = await federatedReads(ctx).locations(read, 'federatedLocationsOfConcern', [near], concerns ?? null);
  return { locations: answer.locations, federation: { completeness: answer.completeness, members: answer.members, cuts: [] } };
};

export const McxIncident: McxIncidentResolvers = {
  status: (i) => i.status,
  reportedAt: (i) => i.reportedAt,
  lastSeenAt: (i) => i.lastSeenAt,
  foundAt: (i) => i.foundAt,
  riskGrade: (i) => i.riskGrade,
  indicators: (i) => i.indicators,
  owners: (i) => i.owners,
  confirmWithOwnerBeforeActing: (i) => i.confirmWithOwnerBeforeActing,
  outOfArea: (i) => i.outOfArea,
  sources: (i) => i.sources,
};

export const McxIncidentSource: McxIncidentSourceResolvers = {
  owner: (s) => s.episode.record.owner,
  ownerReference: (s) => s.episode.record.ownerReference,
  contact: (s, _, ctx: Context) => ctx.services.disclosure.contactOf(s.episode.record.owner),
  confirmWithOwner: (s) => confirmWithOwner(s.episode.record),
  episode: (s) => s.episode,
};

export const McxHistoryAssociate: McxHistoryAssociateResolvers = {
  pointer: (a) => a.pointer,
  seenIn: (a) => a.seenIn,
  otherChildrenLinked: (a) => a.otherChildrenLinked,
  forcesLinked: (a) => a.forcesLinked,
  linksComplete: (a) => a.linksComplete,
};

export const McxLocationOfConcernNear: McxLocationOfConcernNearResolvers = {
  location: (n) => n.location,
  distanceMetres: (n) => n.distanceMetres,
};
