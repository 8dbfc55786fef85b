import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';

import type { Logger } from '@mcx/logger';

import { createAuthenticator, type Principal } from './auth/access.js';
import { subgraphEntryGuard } from './auth/subgraph-guard.js';
import type { Config } from './config.js';
import type { Context, Services } from './context.js';
import { createErrorHandling } from './error-handling.js';
import { JtiStore } from './federation/jti-store.js';
import { createPeerEndpoint, type PeerEndpoint } from './federation/peer-endpoint.js';
import type { Trust } from './federation/trust.js';
import { graphqlLimits } from './graphql-limits.js';
import { createJobs } from './jobs.js';
import type { NodeKeys } from './keys.js';
import type { SecurityLog } from './modules/audit/security-log.js';
import type { Readiness } from './modules/node/node-status-service.js';
import { createContext } from './request-context.js';
import { resolvers } from './resolvers.js';
import { buildSchema } from './schema.js';
import { createServices, type AppDeps, type BuiltServices } from './services.js';

export type { Readiness } from './modules/node/node-status-service.js';

/** The node's parts that the HTTP edge (services/node/src/http/) serves. No sockets, no routes. */
export interface App {
  forceCode: string;
  apollo: ApolloServer<Context>;
  /**
   * Verifies the bearer token (and a forwarded user's) from the headers alone: null without an
   * Authorization header; throws a TOKEN_* McxError for a bad one.
   */
  authenticate(headers: IncomingHttpHeaders): Promise<Principal | null>;
  /** The context of one /graphql request, for an already-verified principal. */
  graphqlContext(input: {
    requestId: string;
    logger: Logger;
    principal: Principal | null;
    headers: IncomingHttpHeaders;
    source: string;
  }): Context;
  /** Unauthenticated noise (no token, a refused token), rate-limited, outside the audit chain. */
  security: SecurityLog;
  /** The receiving end of the peer protocol; null when this node is not federated. */
  peerEndpoint: PeerEndpoint | null;
  readiness(): Promise<Readiness>;
  /** The node's public keys (informational: peers trust the signed manifest, never this). */
  jwks: { keys: Record<string, unknown>[] };
  start(): Promise<void>;
  stop(): Promise<void>;
  services: Services;
  trust: Trust | null;
}

/** The GraphQL server over the node's resolvers, with the node's limits, guards and error handling. */
function createApollo(config: Config, logger: Logger, schema: GraphQLSchema): ApolloServer<Context> {
  const limits = graphqlLimits(config.graphql);
  // Every GraphQL error is described from its structure: answered, logged and traced without the caller's values.
  const errorHandling = createErrorHandling(logger);
  return new ApolloServer<Context>({
    schema,
    // MCX_ENV is the only switch: Apollo never reads NODE_ENV for its defaults. The node's own
    // shutdown (drain, final audit checkpoint) stops Apollo; Apollo installs no signal handlers.
    nodeEnv: config.env,
    stopOnTerminationSignals: false,
    introspection: config.graphql.introspection,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: the node takes full documents only (a request that asks for
    // one gets PERSISTED_QUERY_NOT_SUPPORTED, a client error, never an internal one).
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    csrfPrevention: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // Every answer here is personal and sent with Cache-Control: no-store (security-headers.ts);
      // Apollo's cache hints would only cost a hook on every resolved field (about 1.7 ms a
      // federated query with thirty episodes).
      ApolloServerPluginCacheControlDisabled(),
      ...limits.plugins,
      subgraphEntryGuard({ production: config.env === 'production' }),
      errorHandling.plugin,
    ],
    formatError: errorHandling.formatError,
    logger: errorHandling.apolloLogger,
  });
}

/** The receiving end of the peer protocol: a member's request runs its allow-listed operation on the schema, in its own context. */
function createPeer(deps: AppDeps, built: BuiltServices, schema: GraphQLSchema): PeerEndpoint | null {
  const { config, trust } = deps;
  if (!trust) return null;
  const { services, security } = built;
  return createPeerEndpoint({
    forceCode: config.forceCode,
    holder: trust.holder,
    auditKey: deps.keys.auditCheckpoint,
    jtis: new JtiStore(deps.db.db),
    audit: services.audit,
    security,
    schema,
    clockLeewaySec: 5,
    organisationKind: built.organisations.kindOf,
    ...(deps.peerAnswerFault ? { fault: deps.peerAnswerFault } : {}),
    now: deps.now ?? (() => new Date()),
    context: (principal, peerCall, log) =>
      createContext({
        requestId: randomUUID(),
        logger: log,
        forceCode: config.forceCode,
        services,
        principal,
        headers: {},
        caseRefRules: config.auth.caseRef,
        sink: { security, source: 'peer' },
        peerCall,
      }),
  });
}

/** The node's public keys, as a JWKS. */
function publicKeys(keys: NodeKeys): App['jwks'] {
  const jwk = (k: NodeKeys[keyof NodeKeys]) => ({ ...k.jwk, kid: k.kid, use: 'sig', alg: 'EdDSA', mcx_job: k.job });
  return { keys: [keys.record, keys.peerToken, keys.auditCheckpoint].map(jwk) };
}

/** Wires the node together. It opens no sockets: startNode (or a test) does that. */
export async function createApp(deps: AppDeps): Promise<App> {
  const { config, logger } = deps;
  const built = await createServices(deps);
  const { services, security } = built;
  const authenticator = createAuthenticator(config, deps.devIssuer ?? null);
  const schema = buildSchema(resolvers);
  const apollo = createApollo(config, logger, schema);
  const peerEndpoint = createPeer(deps, built, schema);
  const jobs = createJobs({
    audit: services.audit,
    peerEndpoint,
    auditCheckpointSeconds: config.auditCheckpointSeconds,
    logger,
    alerts: built.alertWorker,
  });
  return {
    forceCode: config.forceCode,
    apollo,
    authenticate: (headers) => authenticator.authenticate(headers),
    graphqlContext: ({ requestId, logger: log, principal, headers, source }) =>
      createContext({
        requestId,
        logger: log,
        forceCode: config.forceCode,
        services,
        principal,
        headers,
        caseRefRules: config.auth.caseRef,
        sink: { security, source },
      }),
    security,
    peerEndpoint,
    readiness: () => services.node.readiness(),
    jwks: publicKeys(deps.keys),
    services,
    trust: deps.trust ?? null,
    async start() {
      await apollo.start();
      jobs.start();
      services.linkCounts.start();
      built.locator.start();
    },
    async stop() {
      await jobs.stop();
      await services.linkCounts.stop();
      security.stop();
      await apollo.stop();
      await built.close();
      await services.audit.drain();
      await security.closeWindow();
      await services.audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final audit checkpoint failed'));
    },
  };
}
