/**
 * childHistory and federatedLocationsOfConcern: the resolvers guard, parse the input and call
 * HistoryService, which builds the child's history (its federated reads share one deadline);
 * FederatedReadService asks for and audits each read.
 */
import type {
  McxHistoryAssociateResolvers,
  McxIncidentResolvers,
  McxIncidentSourceResolvers,
  McxLocationOfConcernNearResolvers,
  Resolvers,
} from '../../__generated__/resolver-map-types.js';
import type { McxNearInput } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { BadUserInputError } from '../../errors.js';
import { confirmWithOwner } from './reconcile.js';

const MAX_NEAR_METRES = 50_000;

/** A WGS84 point with a radius above 0 and up to 50 km. */
const validNear = (near: McxNearInput) =>
  Math.abs(near.lat) <= 90 && Math.abs(near.lon) <= 180 && near.radiusMetres > 0 && near.radiusMetres <= MAX_NEAR_METRES;

const McxIncident: McxIncidentResolvers = {
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

const McxIncidentSource: McxIncidentSourceResolvers = {
  owner: (s) => s.episode.record.owner,
  ownerReference: (s) => s.episode.record.ownerReference,
  contact: (s, _, ctx: Context) => ctx.services.disclosure.contactOf(s.episode.record.owner),
  confirmWithOwner: (s) => confirmWithOwner(s.episode.record),
  episode: (s) => s.episode,
};

const McxHistoryAssociate: McxHistoryAssociateResolvers = {
  pointer: (a) => a.pointer,
  seenIn: (a) => a.seenIn,
  otherChildrenLinked: (a) => a.otherChildrenLinked,
  forcesLinked: (a) => a.forcesLinked,
  linksComplete: (a) => a.linksComplete,
  linkCountsAsOf: (a) => a.linkCountsAsOf,
};

const McxLocationOfConcernNear: McxLocationOfConcernNearResolvers = {
  location: (n) => n.location,
  distanceMetres: (n) => n.distanceMetres,
};

export const resolvers = {
  Query: {
    childHistory: async (_, { identity }, ctx) => {
      const read = await ctx.access.requireRead('childHistory');
      return ctx.services.history.childHistory(read, identity);
    },
    federatedLocationsOfConcern: async (_, { near, concerns }, ctx) => {
      const read = await ctx.access.requireRead('federatedLocationsOfConcern');
      if (!validNear(near))
        throw new BadUserInputError('near must be a WGS84 point with a radius above 0 and up to 50 km', { field: 'near' });
      return ctx.services.history.locationsNear(read, near, concerns ?? null);
    },
  },
  McxIncident,
  McxIncidentSource,
  McxHistoryAssociate,
  McxLocationOfConcernNear,
} satisfies Resolvers;
