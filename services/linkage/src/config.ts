import { z } from 'zod';

/**
 * The only place that reads process.env. One zod schema; every problem is collected and
 * reported together, and `main()` exits 1.
 */
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const file = z.string({ error: 'is required (a file path)' }).trim().min(1, 'is required (a file path)');
const DATABASE_REQUIRED =
  'is required (a postgres:// URL): rate limits, used tokens and the manifest rollback floor live there, shared by every replica';

/** The service's environment variables, with defaults. */
export const LinkageEnvSchema = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: int(4100, 0, 65535),
    DATABASE_URL: z
      .string({ error: DATABASE_REQUIRED })
      .trim()
      .min(1, { message: DATABASE_REQUIRED, abort: true })
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    MCX_LINKAGE_DB_POOL_MAX: int(10, 1, 200),
    MCX_OPERATOR_PUBLIC_KEY_FILE: file,
    MCX_MANIFEST_FILE: file,
    MCX_LINKAGE_KEYS_FILE: file,
    MCX_LINKAGE_AUDIENCE: z.string().trim().min(1).default('mcx-linkage'),
    MCX_LINKAGE_RATE_PER_SECOND: int(200, 1, 1_000_000),
    MCX_LINKAGE_BURST: int(2000, 1, 100_000_000),
    MCX_LINKAGE_MAX_BATCH: int(64, 1, 1024),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    // A batch larger than the bucket could never be served, however long the member waits.
    if (env.MCX_LINKAGE_MAX_BATCH > env.MCX_LINKAGE_BURST) {
      ctx.addIssue({ code: 'custom', path: ['MCX_LINKAGE_MAX_BATCH'], message: 'must not exceed MCX_LINKAGE_BURST' });
    }
  });

/** The linkage service's configuration. */
export interface LinkageConfig {
  host: string;
  port: number;
  /**
   * The linkage service's own PostgreSQL database (never a node's), shared by its replicas:
   * rate buckets, used node tokens and the manifest's rollback floor.
   */
  databaseUrl: string;
  dbPoolMax: number;
  /** The federation operator's pinned manifest key (SPKI PEM). */
  operatorPublicKeyFile: string;
  /** The signed trust manifest (compact JWS). */
  manifestFile: string;
  /** JSON `[{ version, key, active }]`: the OPRF keys, exactly one active. */
  keysFile: string;
  /** The `aud` every node token must carry. */
  audience: string;
  /** Per member: keys (elements) refilled per second, and the bucket size. */
  ratePerSecond: number;
  burst: number;
  /** Most elements in one request. */
  maxBatch: number;
  logLevel: string;
}

/** Thrown with every configuration problem at once. */
export class LinkageConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid linkage service configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'LinkageConfigError';
  }
}

/** Parses an environment into a LinkageConfig, or throws LinkageConfigError listing every problem. */
export function parseLinkageConfig(env: Record<string, string | undefined>): LinkageConfig {
  const parsed = LinkageEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new LinkageConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dbPoolMax: e.MCX_LINKAGE_DB_POOL_MAX,
    operatorPublicKeyFile: e.MCX_OPERATOR_PUBLIC_KEY_FILE,
    manifestFile: e.MCX_MANIFEST_FILE,
    keysFile: e.MCX_LINKAGE_KEYS_FILE,
    audience: e.MCX_LINKAGE_AUDIENCE,
    ratePerSecond: e.MCX_LINKAGE_RATE_PER_SECOND,
    burst: e.MCX_LINKAGE_BURST,
    maxBatch: e.MCX_LINKAGE_MAX_BATCH,
    logLevel: e.LOG_LEVEL,
  };
}

/** Reads process.env. Called once, from main(). */
export function loadLinkageConfig(): LinkageConfig {
  return parseLinkageConfig(process.env);
}
