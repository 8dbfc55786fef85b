import { afterAll } from 'vitest';

import { initTelemetry, type Telemetry } from '@mcx/telemetry';

const MEMORY = { serviceName: 'mcx-test', exporter: 'memory' } as const;

/**
 * Tracing kept in memory for one test file's assertions. Tracing is one global per process, and the
 * `db` test files share their worker's process: a node started by an earlier file installed it
 * without an exporter. That one is shut down and this file's installed in its place; when the file
 * ends, this one is shut down too, so the next file's nodes install their own.
 */
export async function memoryTelemetry(): Promise<Telemetry> {
  let telemetry = initTelemetry(MEMORY);
  if (telemetry.options.exporter !== 'memory') {
    await telemetry.shutdown();
    telemetry = initTelemetry(MEMORY);
  }
  const installed = telemetry;
  afterAll(() => installed.shutdown());
  return installed;
}
