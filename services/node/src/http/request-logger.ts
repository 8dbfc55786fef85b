import type { FastifyBaseLogger } from 'fastify';

import type { Logger } from '@mcx/logger';

type ChildArgs = Parameters<FastifyBaseLogger['child']>;

/**
 * Fastify's per-request logger (`request.log`), made into a pino child only when the request
 * first logs at a level that is on. A pino child serialises and redacts its bindings when it is
 * made, and most requests log nothing through it: their one line comes from the request log
 * (request-log.ts), which writes through the root logger with the request id in the line.
 */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: ChildArgs[0],
    private readonly options: ChildArgs[1],
  ) {}

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  private enabled(level: string): boolean {
    return this.made !== undefined || (this.parent as unknown as Logger).isLevelEnabled(level);
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return ((this.made ?? this.parent) as unknown as Logger).isLevelEnabled(level);
  }

  fatal(...args: Parameters<FastifyBaseLogger['fatal']>): void {
    if (this.enabled('fatal')) this.real().fatal(...args);
  }

  error(...args: Parameters<FastifyBaseLogger['error']>): void {
    if (this.enabled('error')) this.real().error(...args);
  }

  warn(...args: Parameters<FastifyBaseLogger['warn']>): void {
    if (this.enabled('warn')) this.real().warn(...args);
  }

  info(...args: Parameters<FastifyBaseLogger['info']>): void {
    if (this.enabled('info')) this.real().info(...args);
  }

  debug(...args: Parameters<FastifyBaseLogger['debug']>): void {
    if (this.enabled('debug')) this.real().debug(...args);
  }

  trace(...args: Parameters<FastifyBaseLogger['trace']>): void {
    if (this.enabled('trace')) this.real().trace(...args);
  }

  child(...args: ChildArgs): FastifyBaseLogger {
    return this.real().child(...args);
  }

  silent(): void {}
}

/** Fastify's `childLoggerFactory`: a LazyRequestLogger per request. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: ChildArgs[0], options: ChildArgs[1]): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
