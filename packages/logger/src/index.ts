import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names that may carry a child's or an associate's identity. Any log field with one
 * of these names, at any depth we list, is censored before the line is written.
 */
export const PERSONAL_FIELDS = [
  'name',
  'forename',
  'surname',
  'givenName',
  'familyName',
  'fullName',
  'dob',
  'dateOfBirth',
  'nhsNumber',
  'chiNumber',
  'pncId',
  'phone',
  'vehicleReg',
  'identity',
  'variables',
  'authorization',
  'cookie',
] as const;

const REDACT_PATHS = PERSONAL_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]).concat([
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
]);

/**
 * graphql-js echoes bad variable values into messages ("Variable "$input" got invalid value
 * \"Olivia Hart\" ..."). Every message we log passes through this, so a value quoted in an
 * error never reaches a log line.
 */
export function scrubMessage(message: string): string {
  return message
    .replace(/got invalid value [\s\S]*?(;|$)/g, 'got invalid value [redacted]$1')
    .replace(/Expected value of type "[^"]+", found [\s\S]*?(;|$)/g, (m) => m.replace(/found [\s\S]*/, 'found [redacted]'))
    .replace(/"(?:[^"\\]|\\.){1,}"/g, (quoted) => (/^"\$?[A-Za-z_][A-Za-z0-9_.]*"$/.test(quoted) ? quoted : '"[redacted]"'));
}

function scrubError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return {
    type: err.name,
    code: (err as { code?: unknown }).code,
    message: scrubMessage(err.message),
    stack: err.stack ? scrubMessage(err.stack) : undefined,
    cause: err.cause ? scrubError(err.cause) : undefined,
  };
}

export interface CreateLoggerOptions {
  level?: string;
  /** A stream to write to (tests capture lines through it). Defaults to stdout. */
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

/** A pino JSON logger with personal-data redaction and scrubbed errors built in. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: scrubError, error: scrubError },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        // Scrub a free-text message argument as well as structured fields.
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubMessage(a) : a)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
