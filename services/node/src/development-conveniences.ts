import type { Config } from './config.js';

/** A development convenience in force: what it is, and the setting that turns it on or off. */
export interface DevelopmentConvenience {
  code: string;
  description: string;
}

/**
 * Every development convenience this configuration leaves on. Outside production that is the
 * defaults; a production node has none, except a plain-http evaluation network it asked for.
 * The node names each in its startup log at warn level, so none is ever on unnoticed.
 */
export function developmentConveniences(config: Config): DevelopmentConvenience[] {
  const production = config.env === 'production';
  const http = (url: string | undefined) => url !== undefined && url.startsWith('http://');
  const found: Array<[boolean, string, string]> = [
    [config.databaseUrl === null, 'EMBEDDED_DATABASE', 'the embedded PostgreSQL database under MCX_DATA_DIR (set DATABASE_URL)'],
    [config.auth.devIssuer, 'DEV_ISSUER', 'the development token issuer, which mints working tokens (MCX_DEV_ISSUER)'],
    [config.graphql.introspection, 'INTROSPECTION', 'schema introspection, for any caller the node lets in (MCX_INTROSPECTION)'],
    [!production, 'SUBGRAPH_ENTRY_OPEN', '_service and _entities without a router credential (MCX_ENV=production requires one)'],
    [!production, 'KEYS_GENERATED', 'node keys generated on first start when MCX_KEYS_DIR has none (MCX_ENV=production requires them)'],
    [
      !production,
      'PRIVILEGED_LOGIN_TOLERATED',
      'a DATABASE_URL login that could change the audit tables is only warned about (MCX_ENV=production refuses it)',
    ],
    [
      config.trust !== null && !config.federation.requireHttps,
      'PEER_PLAIN_HTTP',
      'calls to member nodes over plain http (MCX_PEER_ALLOW_HTTP, or MCX_ENV other than production)',
    ],
    [config.trust === null, 'NOT_FEDERATED', 'no pinned operator key or trust manifest (MCX_OPERATOR_PUBLIC_KEY_FILE, MCX_MANIFEST_FILE)'],
    [http(config.linkage?.url), 'LINKAGE_PLAIN_HTTP', 'the linkage service over plain http (MCX_LINKAGE_URL)'],
    [
      http(config.associateDetails?.url),
      'ASSOCIATE_DETAILS_PLAIN_HTTP',
      "the force's records system over plain http (MCX_ASSOCIATE_DETAILS_URL)",
    ],
  ];
  return found.filter(([on]) => on).map(([, code, description]) => ({ code, description }));
}
