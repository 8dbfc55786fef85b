import type { Resolvers } from '../../__generated__/resolver-map-types.js';

export const resolvers = {
  Query: {
    nodeForce: async (_, __, ctx) => {
      await ctx.access.requireViewer('nodeForce');
      return ctx.services.node.forceCode;
    },
    nodeStatus: async (_, __, ctx) => {
      await ctx.access.require('operator.admin', 'nodeStatus');
      return ctx.services.node.status(ctx.services.federation);
    },
  },
} satisfies Resolvers;
