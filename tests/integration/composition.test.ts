import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';

import { loadTypeDefs } from '../../services/node/src/schema.js';

// A force's own subgraph that adds a field to MCX's MissingEpisode entity.
const FORCE_SUBGRAPH = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type MissingEpisode @key(fields: "owner id") {
    owner: String!
    id: ID!
    rmsTaskQueue: String
  }
  type Person @key(fields: "id") { id: ID! }
  type Location @key(fields: "id") { id: ID! }
  type Query { forceLocalThing: String }
`;

describe('the node SDL in a force supergraph', () => {
  it('composes beside a subgraph that extends MissingEpisode, without type-name collisions', () => {
    const result = composeServices([
      { name: 'mcx', url: 'http://mcx.invalid/graphql', typeDefs: parse(loadTypeDefs()) },
      { name: 'force', url: 'http://force.invalid/graphql', typeDefs: parse(FORCE_SUBGRAPH) },
    ]);
    expect(result.errors ?? []).toEqual([]);
    const supergraph = result.schema!.toAPISchema().toGraphQLJSSchema();
    const episode = supergraph.getType('MissingEpisode') as import('graphql').GraphQLObjectType;
    expect(Object.keys(episode.getFields())).toEqual(expect.arrayContaining(['owner', 'id', 'status', 'recordBytes', 'rmsTaskQueue']));
    expect(supergraph.getQueryType()?.getFields()).toHaveProperty('localEpisodes');
    expect(supergraph.getQueryType()?.getFields()).toHaveProperty('forceLocalThing');
    expect(supergraph.getType('Person')).toBeDefined();
  });
});
