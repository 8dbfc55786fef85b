import { Writable } from 'node:stream';

import { createLogger, type Logger } from '@mcx/logger';

/** A real pino logger whose JSON lines are kept in memory, for asserting on what was logged. */
export function capturingLogger(level = 'debug'): { logger: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines, text: () => lines.join('') };
}
