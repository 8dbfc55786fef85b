import { z } from 'zod';

import { alertStreamConfig, alertStreamProblems, type AlertStreamConfig } from './alert-stream-config.js';
import { federationLoadConfig, federationLoadProblems, type FederationLoadParts } from './federation-load-config.js';
import { HISTORY_ENV, historyConfig, type HistoryConfigParts } from './history-config.js';

// The only place that reads process.env: one zod schema (with the alert stream's, alert-stream-config.ts); every problem
// is collected and printed together, then the process exits 1. Disabled features are `null`.
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** MCX_ENV alone decides what kind of node this is; NODE_ENV=production without it is refused. */
export const NODE_ENV_WITHOUT_MCX_ENV =
  'NODE_ENV=production but MCX_ENV is unset: set MCX_ENV=production for a production node, or MCX_ENV=development to run one for development';

export const EnvSchema = z
  .object({
    // Unset: development, unless NODE_ENV says production (then the node refuses to guess).
    MCX_ENV: z.enum(['development', 'test', 'production']).optional(),
    // Read only to refuse a deployment that set NODE_ENV=production and forgot MCX_ENV.
    NODE_ENV: z.string().optional(),
    HOST: z.string().default('127.0.0.1'),
    PORT: int(4000, 0, 65535),
    // Unset: no metrics endpoint. 0 picks a free port (tests).
    MCX_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    DATABASE_URL: z
      .string()
      .trim()
      .transform((v) => (v === '' ? null : v))
      .pipe(
        z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .nullable(),
      )
      .optional(),
    MCX_DATA_DIR: z.string().default('.data'),
    MCX_KEYS_DIR: z.string().optional(),
    MCX_OPERATOR_PUBLIC_KEY_FILE: z.string().optional(),
    MCX_ISSUERS_FILE: z.string().optional(),
    MCX_LINKAGE_URL: z.url().optional(),
    MCX_LINKAGE_AUDIENCE: z.string().default('mcx-linkage'),
    MCX_LINKAGE_PREVIOUS_KEY_VERSION: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/)
      .optional(),
    MCX_DEV_ISSUER: bool.optional(),
    MCX_TOKEN_CLOCK_TOLERANCE_SECONDS: int(30, 0, 300),
    MCX_CASE_REF_PATTERN: z
      .string()
      .refine((p) => p.startsWith('^') && p.endsWith('$'), 'must be anchored with ^ and $')
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .default('^[A-Z]{2,4}-\\d{2,4}-\\d{1,10}$'),
    MCX_CASE_REF_MAX_LENGTH: int(32, 4, 64),
    MCX_MANIFEST_FILE: z.string().optional(),
    MCX_EMBEDDED_PG_PORT: int(54329, 1024, 65535),
    MCX_FORCE_CODE: z
      .string()
      .regex(/^[A-Z0-9]{2,8}$/, 'must be 2-8 upper-case letters or digits, e.g. WMP')
      .optional(),
    MCX_DB_POOL_MAX: int(10, 1, 200),
    // false behind PgBouncer in transaction mode: no named prepared statements.
    MCX_DB_PREPARE: bool.default(true),
    MCX_DB_ROLE: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('mcx_app'),
    MCX_MIGRATION_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    MCX_AUDIT_CHECKPOINT_SECONDS: int(60, 0, 86400),
    MCX_AUDIT_EXPORT_STALL_SECONDS: int(60, 1, 3600),
    MCX_AUDIT_EXPORT_MAX_SECONDS: int(3600, 1, 86400),
    MCX_ERASURE_LOG: z.string().optional(),
    MCX_REVIEW_DAYS_EPISODE: int(730, 1, 36500),
    MCX_REVIEW_DAYS_LOCATION: int(365, 1, 36500),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MCX_MAX_BODY_BYTES: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    MCX_ANONYMOUS_MAX_BODY_BYTES: int(4 * 1024, 256, 1024 * 1024),
    MCX_MAX_JSON_DEPTH: int(32, 4, 512),
    MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: int(1000, 0, 60000),
    MCX_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: z.coerce.number().min(0).max(1).default(0),
    MCX_PRESSURE_MAX_HEAP_BYTES: int(0, 0, 2 ** 40),
    MCX_PRESSURE_MAX_RSS_BYTES: int(0, 0, 2 ** 40),
    MCX_PRESSURE_RETRY_AFTER_SECONDS: int(10, 1, 3600),
    MCX_CLOCK_SKEW_SECONDS: int(300, 0, 3600),
    MCX_GRAPHQL_MAX_DEPTH: int(10, 2, 50),
    MCX_GRAPHQL_MAX_ALIASES: int(15, 0, 200),
    MCX_GRAPHQL_MAX_DIRECTIVES: int(10, 0, 100),
    MCX_GRAPHQL_MAX_TOKENS: int(4000, 100, 100000),
    MCX_GRAPHQL_MAX_COST: int(20000, 100, 1000000),
    MCX_INTROSPECTION: bool.optional(),
    MCX_SHUTDOWN_GRACE_MS: int(10000, 0, 120000),
    MCX_DISCLOSURE_POLICY_FILE: z.string().optional(),
    MCX_ASSOCIATE_DETAILS_URL: z.url().optional(),
    MCX_ASSOCIATE_DETAILS_TOKEN_FILE: z.string().optional(),
    MCX_ASSOCIATE_DETAILS_TIMEOUT_MS: int(3000, 100, 30000),
    MCX_PEER_TIMEOUT_MS: int(1000, 50, 30000),
    MCX_FEDERATION_DEADLINE_MS: int(1500, 50, 60000),
    MCX_PEER_MAX_RESPONSE_BYTES: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    MCX_PEER_BREAKER_FAILURES: int(5, 1, 1000),
    MCX_PEER_BREAKER_HALF_OPEN_MS: int(30000, 100, 3600000),
    MCX_PEER_ALLOW_HTTP: bool.optional(),
    MCX_OTEL_EXPORTER: z.enum(['none', 'otlp']).default('none'),
    ...HISTORY_ENV,
    MCX_ALERT_WEBHOOK_URL: z.url().optional(),
    MCX_CONSOLE_DIR: z.string().optional(),
    MCX_CONSOLE_OIDC_FILE: z.string().optional(),
    MCX_CONSOLE_IDLE_SECONDS: int(900, 5, 28800),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  })
  .superRefine((env, ctx) => {
    // Read as a deployment tool might write it ("Production", "production ").
    const productionRuntime = env.NODE_ENV?.trim().toLowerCase() === 'production';
    if (env.MCX_ENV === undefined && productionRuntime) {
      ctx.addIssue({ code: 'custom', path: ['MCX_ENV'], message: NODE_ENV_WITHOUT_MCX_ENV });
    }
    if (env.MCX_ENV === 'test' && productionRuntime) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCX_ENV'],
        message: 'MCX_ENV=test is for the test suite, and NODE_ENV says production: set MCX_ENV=production',
      });
    }
    if (Boolean(env.MCX_OPERATOR_PUBLIC_KEY_FILE) !== Boolean(env.MCX_MANIFEST_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MCX_MANIFEST_FILE'],
        message: 'MCX_OPERATOR_PUBLIC_KEY_FILE and MCX_MANIFEST_FILE are set together',
      });
    }
    if (env.MCX_OTEL_EXPORTER === 'otlp' && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
      ctx.addIssue({ code: 'custom', path: ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], message: 'is required when MCX_OTEL_EXPORTER is otlp' });
    }
    if (env.MCX_ANONYMOUS_MAX_BODY_BYTES > env.MCX_MAX_BODY_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['MCX_ANONYMOUS_MAX_BODY_BYTES'], message: 'must be at most MCX_MAX_BODY_BYTES' });
    }
    if (env.MCX_FEDERATION_DEADLINE_MS < env.MCX_PEER_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['MCX_FEDERATION_DEADLINE_MS'], message: 'must be at least MCX_PEER_TIMEOUT_MS' });
    }
    if (env.MCX_ENV === 'production') {
      if (env.MCX_DEV_ISSUER)
        ctx.addIssue({ code: 'custom', path: ['MCX_DEV_ISSUER'], message: 'production refuses the development token issuer' });
      if (env.MCX_INTROSPECTION) ctx.addIssue({ code: 'custom', path: ['MCX_INTROSPECTION'], message: 'must be off in production' });
      for (const key of ['MCX_LINKAGE_URL', 'MCX_ASSOCIATE_DETAILS_URL', 'MCX_ALERT_WEBHOOK_URL'] as const) {
        const url = env[key];
        if (url && !url.startsWith('https://')) ctx.addIssue({ code: 'custom', path: [key], message: 'must be https in production' });
      }
    }
  });

export interface Config extends HistoryConfigParts, FederationLoadParts {
  env: 'development' | 'test' | 'production';
  host: string;
  port: number;
  /** GET /metrics for Prometheus on HOST at this port; null: off (MCX_METRICS_PORT unset). */
  metricsPort: number | null;
  /** null: start the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  /** PKCS8 PEM files record.pem, peer-token.pem, audit-checkpoint.pem. */
  keysDir: string;
  /** The pinned operator key and the signed manifest; null: this node is not federated. */
  trust: { operatorPublicKeyFile: string; manifestFile: string } | null;
  /** The federation's linkage service; null: this node accepts no identity. */
  linkage: { url: string; audience: string; previousKeyVersion: string | null } | null;
  auth: {
    /** JSON array of issuer configurations (see packages/auth). */
    issuersFile: string | null;
    /** Accept the development issuer (never in production); its key lives in dataDir. */
    devIssuer: boolean;
    clockToleranceSec: number;
    caseRef: { caseRefPattern: RegExp; caseRefMaxLength: number };
  };
  embeddedPgPort: number;
  forceCode: string;
  dbPoolMax: number;
  /** The role every pooled connection acts as (it cannot change the audit tables). */
  dbRole: string;
  /** Named prepared statements (false behind PgBouncer in transaction mode). */
  dbPrepare: boolean;
  /** The schema owner's URL for migrations; null: DATABASE_URL. */
  migrationDatabaseUrl: string | null;
  /** How often a signed audit checkpoint is made (0: only at shutdown and on request). */
  auditCheckpointSeconds: number;
  /** GET /audit/export is cut when its client has taken nothing for this long (it holds a database connection). */
  auditExportStallSeconds: number;
  /** GET /audit/export is cut when it has run this long, however steadily its client reads (it holds a connection and a snapshot). */
  auditExportMaxSeconds: number;
  /** The purge job's erasure log (JSON Lines), kept outside the database for replay after a restore. */
  erasureLog: string;
  /** Retention by kind, in days: the default review date when a publisher sends none. */
  reviewDays: { episode: number; associate: number; location_of_concern: number };
  logLevel: string;
  maxBodyBytes: number;
  /**
   * The HTTP edge: the body limit before a request has shown a valid credential, how deeply a
   * JSON body may nest, and when the node sheds load (503 with Retry-After; 0 turns a check off).
   */
  http: {
    anonymousMaxBodyBytes: number;
    maxJsonDepth: number;
    pressure: {
      maxEventLoopDelayMs: number;
      maxEventLoopUtilization: number;
      maxHeapUsedBytes: number;
      maxRssBytes: number;
      retryAfterSeconds: number;
    };
  };
  clockSkewSeconds: number;
  graphql: { maxDepth: number; maxAliases: number; maxDirectives: number; maxTokens: number; maxCost: number; introspection: boolean };
  shutdownGraceMs: number;
  /** The disclosure policy file (JSON); null: the defaults in modules/disclosure/policy.ts. */
  disclosurePolicyFile: string | null;
  /** The force's records system endpoint that releases an associate's name; null: not offered. */
  associateDetails: { url: string; tokenFile: string | null; timeoutMs: number } | null;
  /** Calls to member nodes: per-peer timeout, overall deadline, response bound and breaker. */
  federation: {
    peerTimeoutMs: number;
    deadlineMs: number;
    maxResponseBytes: number;
    breakerFailures: number;
    breakerHalfOpenMs: number;
    requireHttps: boolean;
  };
  /** Alerts: the force system's webhook each inbox alert is POSTed to (signed, with an Idempotency-Key; null: none), the live stream. */
  alerts: { webhookUrl: string | null; stream: AlertStreamConfig };
  /** Traces: 'none' keeps trace context flowing between nodes but exports nothing. */
  telemetry: { exporter: 'none' | 'otlp'; otlpEndpoint: string | null };
  /** The web console: its built files (null: services/console/dist), its OIDC clients per issuer, idle sign-out. */
  console: { dir: string | null; oidcFile: string | null; idleSeconds: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * What the command needs: `node` serves (and purges, re-signs) with every production check;
 * `migrate` only applies migrations, so in production it needs a database and nothing else.
 */
export type ConfigPurpose = 'node' | 'migrate';

/** The production settings that depend on what the process is for (present, not well formed). */
function purposeProblems(env: Record<string, string | undefined>, purpose: ConfigPurpose): string[] {
  if (env.MCX_ENV !== 'production') return [];
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  if (purpose === 'migrate')
    return set('DATABASE_URL') || set('MCX_MIGRATION_DATABASE_URL')
      ? []
      : ['MCX_MIGRATION_DATABASE_URL: is required in production (or DATABASE_URL): the schema owner that applies the migrations'];
  const problems: string[] = [];
  if (!set('DATABASE_URL')) problems.push('DATABASE_URL: is required in production: the embedded database is for development only');
  if (!set('MCX_FORCE_CODE')) problems.push('MCX_FORCE_CODE: is required in production');
  if (!set('MCX_OPERATOR_PUBLIC_KEY_FILE'))
    problems.push('MCX_OPERATOR_PUBLIC_KEY_FILE: is required in production: the node pins the federation operator key');
  if (!set('MCX_MANIFEST_FILE')) problems.push('MCX_MANIFEST_FILE: is required in production');
  if (!set('MCX_ISSUERS_FILE')) problems.push('MCX_ISSUERS_FILE: is required in production: the token issuers this node accepts');
  return problems;
}

/** Parses an environment into a Config, or throws ConfigError listing every problem. */
export function parseConfig(env: Record<string, string | undefined>, opts: { purpose?: ConfigPurpose } = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  problems.push(...purposeProblems(env, opts.purpose ?? 'node'), ...alertStreamProblems(env), ...federationLoadProblems(env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    env: e.MCX_ENV ?? 'development',
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.MCX_METRICS_PORT ?? null,
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: e.MCX_DATA_DIR,
    keysDir: e.MCX_KEYS_DIR ?? `${e.MCX_DATA_DIR}/keys`,
    auth: {
      issuersFile: e.MCX_ISSUERS_FILE ?? null,
      devIssuer: e.MCX_DEV_ISSUER ?? e.MCX_ENV !== 'production',
      clockToleranceSec: e.MCX_TOKEN_CLOCK_TOLERANCE_SECONDS,
      caseRef: { caseRefPattern: new RegExp(e.MCX_CASE_REF_PATTERN), caseRefMaxLength: e.MCX_CASE_REF_MAX_LENGTH },
    },
    linkage: e.MCX_LINKAGE_URL
      ? { url: e.MCX_LINKAGE_URL, audience: e.MCX_LINKAGE_AUDIENCE, previousKeyVersion: e.MCX_LINKAGE_PREVIOUS_KEY_VERSION ?? null }
      : null,
    trust:
      e.MCX_OPERATOR_PUBLIC_KEY_FILE && e.MCX_MANIFEST_FILE
        ? { operatorPublicKeyFile: e.MCX_OPERATOR_PUBLIC_KEY_FILE, manifestFile: e.MCX_MANIFEST_FILE }
        : null,
    embeddedPgPort: e.MCX_EMBEDDED_PG_PORT,
    // A development node with no force configured plays West Midlands Police.
    forceCode: e.MCX_FORCE_CODE ?? 'WMP',
    dbPoolMax: e.MCX_DB_POOL_MAX,
    dbRole: e.MCX_DB_ROLE,
    dbPrepare: e.MCX_DB_PREPARE,
    migrationDatabaseUrl: e.MCX_MIGRATION_DATABASE_URL ?? null,
    auditCheckpointSeconds: e.MCX_AUDIT_CHECKPOINT_SECONDS,
    auditExportStallSeconds: e.MCX_AUDIT_EXPORT_STALL_SECONDS,
    auditExportMaxSeconds: e.MCX_AUDIT_EXPORT_MAX_SECONDS,
    erasureLog: e.MCX_ERASURE_LOG ?? `${e.MCX_DATA_DIR}/erasures.jsonl`,
    // Associates have no date of their own to count from: their publisher always sends reviewAt.
    reviewDays: { episode: e.MCX_REVIEW_DAYS_EPISODE, associate: 365, location_of_concern: e.MCX_REVIEW_DAYS_LOCATION },
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MCX_MAX_BODY_BYTES,
    http: {
      anonymousMaxBodyBytes: e.MCX_ANONYMOUS_MAX_BODY_BYTES,
      maxJsonDepth: e.MCX_MAX_JSON_DEPTH,
      pressure: {
        maxEventLoopDelayMs: e.MCX_PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
        maxEventLoopUtilization: e.MCX_PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
        maxHeapUsedBytes: e.MCX_PRESSURE_MAX_HEAP_BYTES,
        maxRssBytes: e.MCX_PRESSURE_MAX_RSS_BYTES,
        retryAfterSeconds: e.MCX_PRESSURE_RETRY_AFTER_SECONDS,
      },
    },
    clockSkewSeconds: e.MCX_CLOCK_SKEW_SECONDS,
    graphql: {
      maxDepth: e.MCX_GRAPHQL_MAX_DEPTH,
      maxAliases: e.MCX_GRAPHQL_MAX_ALIASES,
      maxDirectives: e.MCX_GRAPHQL_MAX_DIRECTIVES,
      maxTokens: e.MCX_GRAPHQL_MAX_TOKENS,
      maxCost: e.MCX_GRAPHQL_MAX_COST,
      introspection: e.MCX_INTROSPECTION ?? e.MCX_ENV !== 'production',
    },
    shutdownGraceMs: e.MCX_SHUTDOWN_GRACE_MS,
    disclosurePolicyFile: e.MCX_DISCLOSURE_POLICY_FILE ?? null,
    associateDetails: e.MCX_ASSOCIATE_DETAILS_URL
      ? {
          url: e.MCX_ASSOCIATE_DETAILS_URL,
          tokenFile: e.MCX_ASSOCIATE_DETAILS_TOKEN_FILE ?? null,
          timeoutMs: e.MCX_ASSOCIATE_DETAILS_TIMEOUT_MS,
        }
      : null,
    federation: {
      peerTimeoutMs: e.MCX_PEER_TIMEOUT_MS,
      deadlineMs: e.MCX_FEDERATION_DEADLINE_MS,
      maxResponseBytes: e.MCX_PEER_MAX_RESPONSE_BYTES,
      breakerFailures: e.MCX_PEER_BREAKER_FAILURES,
      breakerHalfOpenMs: e.MCX_PEER_BREAKER_HALF_OPEN_MS,
      // Production calls members over https only, unless an evaluation network says otherwise.
      requireHttps: e.MCX_ENV === 'production' && !e.MCX_PEER_ALLOW_HTTP,
    },
    ...historyConfig(e),
    ...federationLoadConfig(env),
    alerts: { webhookUrl: e.MCX_ALERT_WEBHOOK_URL ?? null, stream: alertStreamConfig(env) },
    telemetry: { exporter: e.MCX_OTEL_EXPORTER, otlpEndpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? null },
    console: { dir: e.MCX_CONSOLE_DIR ?? null, oidcFile: e.MCX_CONSOLE_OIDC_FILE ?? null, idleSeconds: e.MCX_CONSOLE_IDLE_SECONDS },
  };
}

/** Reads process.env. Called once, from main() (or a CLI command, for its purpose). */
export function loadConfig(purpose: ConfigPurpose = 'node'): Config {
  return parseConfig(process.env, { purpose });
}
