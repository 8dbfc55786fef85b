import { pino, type Bindings, type ChildLoggerOptions, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names that may carry a child's or an associate's identity. A log field with one of these
 * names, at any depth pino writes, is censored before the line is written.
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

const CENSORED = new Set<string>(PERSONAL_FIELDS);
const CENSOR = '[redacted]';
/** pino stops writing objects nested deeper than its depthLimit (5) and writes "[...]"; so does the censor. */
const DEPTH_LIMIT = 5;

/**
 * The fields of a log line (or a child logger's bindings) with every personal field censored, by
 * name, at every depth written. One pass over the object, copying only the objects it changes: the
 * caller's objects are never modified. pino's own redaction takes a list of paths, so it covers only
 * the depths listed, and with wildcards it cost about 200 µs a line (more than the rest of a
 * request's logging); this costs a few microseconds and has no depth it misses. Errors are left to
 * the `err` serializer (errorSummary), which keeps no message and no field that could hold a value.
 */
export function censorPersonalFields<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (depth > DEPTH_LIMIT) return '[...]' as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const censored = censorPersonalFields(item, depth + 1);
      if (censored !== item) (copy ??= value.slice())[i] = censored;
    }
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const field = fields[key];
    const censored = CENSORED.has(key) ? CENSOR : censorPersonalFields(field, depth + 1);
    if (censored !== field) (copy ??= { ...fields })[key] = censored;
  }
  return (copy ?? value) as T;
}

// Fields of an error that name a code, a system call or a database object, never a value.
const ERROR_FIELDS = [
  'code',
  'errno',
  'syscall',
  'severity',
  'routine',
  'schema_name',
  'table_name',
  'column_name',
  'constraint_name',
] as const;
const MAX_FRAMES = 12;
const MAX_CAUSES = 4;

/**
 * What a log line keeps of an error: its type, its stable code (or `extensions.code`), the fields
 * that name database objects, its stack frames and its causes, never its message. Messages are
 * where input values end up (graphql-js quotes bad variables, PostgreSQL quotes the value it could
 * not cast), so a logged error is identified by code and place instead.
 *
 * @example
 * logger.error({ err }, 'audit checkpoint failed'); // {"err":{"type":"McxError","code":"AUDIT_CHAIN_BROKEN","frames":[...]}}
 */
export function errorSummary(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: err === null ? 'null' : typeof err };
  const out: Record<string, unknown> = { type: err.name };
  const fields = err as unknown as Record<string, unknown>;
  for (const field of ERROR_FIELDS) {
    const v = fields[field];
    if (typeof v === 'string' || typeof v === 'number') out[field] = v;
  }
  const extensions = fields.extensions as Record<string, unknown> | undefined;
  if (out.code === undefined && typeof extensions?.code === 'string') out.code = extensions.code;
  if (Array.isArray(fields.locations)) {
    out.locations = (fields.locations as Array<{ line?: unknown; column?: unknown }>)
      .filter((l) => typeof l?.line === 'number' && typeof l.column === 'number')
      .map((l) => ({ line: l.line, column: l.column }));
  }
  const frames = stackFrames(err);
  if (frames.length > 0) out.frames = frames;
  const cause = err.cause ?? fields.originalError;
  if (cause !== undefined && cause !== null && cause !== err && depth < MAX_CAUSES) out.cause = errorSummary(cause, depth + 1);
  return out;
}

/**
 * The "at fn (file:line:col)" lines of a stack. The stack starts with the message, which may itself
 * hold lines that look like frames, so frames are read only after a header that is exactly the
 * error's name and message; when the message changed after the stack was made, there are none.
 */
function stackFrames(err: Error): string[] {
  const stack = err.stack ?? '';
  const headers = [`${err.name}: ${err.message}`, `${err.constructor.name}: ${err.message}`, `Error: ${err.message}`, err.name];
  const header = headers.find((h) => stack === h || stack.startsWith(`${h}\n`));
  if (header === undefined) return [];
  return stack
    .slice(header.length + 1)
    .split('\n')
    .filter((l) => /^\s+at \S/.test(l))
    .slice(0, MAX_FRAMES)
    .map((l) => l.trim());
}

export interface CreateLoggerOptions {
  level?: string;
  /** A stream to write to (tests capture lines through it). Defaults to stdout. */
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * A pino JSON logger with personal-data redaction built in: fields named in PERSONAL_FIELDS are
 * censored at any depth (censorPersonalFields), and an error under `err` or `error` keeps its type, code and frames, never its message
 * (see errorSummary). A log message is fixed text: values go in fields, never into the message.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: (e: unknown) => errorSummary(e), error: (e: unknown) => errorSummary(e) },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => censorPersonalFields(bindings),
      log: (fields) => censorPersonalFields(fields),
    },
  };
  const logger = options.destination ? pino(opts, options.destination) : pino(opts);
  // pino passes a child's bindings through no formatter, so the censor goes into child() itself;
  // a child is made with Object.create(parent), so its own children inherit this child() too.
  type Child = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const pinoChild = logger.child as unknown as Child;
  const child: Child = function (bindings, childOptions) {
    return pinoChild.call(this, censorPersonalFields(bindings), childOptions);
  };
  logger.child = child as unknown as Logger['child'];
  return logger;
}
