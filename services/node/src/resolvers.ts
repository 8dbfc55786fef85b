/** The node's resolver map: every module's resolvers, merged. No field is resolved here. */
import type { Resolvers } from './__generated__/resolver-map-types.js';
import { resolvers as federation } from './federation/resolvers.js';
import * as alertStream from './modules/alerts/alert-stream-resolvers.js';
import * as alerts from './modules/alerts/resolvers.js';
import * as associate from './modules/associate/resolvers.js';
import * as audit from './modules/audit/resolvers.js';
import * as episode from './modules/episode/resolvers.js';
import * as history from './modules/history/resolvers.js';
import * as location from './modules/location-of-concern/resolvers.js';
import * as locator from './modules/locator/resolvers.js';
import * as node from './modules/node/resolvers.js';
import * as records from './modules/records/resolvers.js';
import * as subject from './modules/subject/resolvers.js';
import { DateScalar, DateTimeScalar } from './scalars.js';

type ModuleResolvers = { Query?: object; Mutation?: object } & Record<string, object | undefined>;

/** Merges modules' resolvers: Query and Mutation field by field, each type's resolvers from the one module that owns it. */
export function mergeResolvers(modules: readonly ModuleResolvers[]): Resolvers {
  const merged: Record<string, object> = {};
  for (const m of modules) {
    for (const [type, fields] of Object.entries(m)) {
      if (!fields) continue;
      if (type !== 'Query' && type !== 'Mutation' && merged[type]) throw new Error(`two modules resolve ${type}`);
      merged[type] = { ...merged[type], ...fields };
    }
  }
  return merged as Resolvers;
}

export const resolvers: Resolvers = mergeResolvers([
  { DateTime: DateTimeScalar, Date: DateScalar },
  node.resolvers,
  audit.resolvers,
  subject.resolvers,
  episode.resolvers,
  associate.resolvers,
  location.resolvers,
  records.resolvers,
  history.resolvers,
  federation,
  alerts.resolvers,
  alertStream.resolvers,
  locator.resolvers,
]);
