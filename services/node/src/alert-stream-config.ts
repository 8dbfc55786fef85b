/**
 * The live alert stream's settings (GraphQL over Server-Sent Events at /graphql/stream):
 * how often it sends a heartbeat, how often it reads the inbox when no notification came, and how
 * many streams a node and one person may hold open, how many alerts a connect catches up, and
 * how often one person may open a stream. Read by config.ts from the environment.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const AlertStreamEnvSchema = z.object({
  MCX_ALERT_STREAM_HEARTBEAT_MS: int(15_000, 500, 300_000),
  MCX_ALERT_STREAM_POLL_MS: int(5_000, 200, 300_000),
  MCX_ALERT_STREAM_MAX_STREAMS: int(500, 1, 100_000),
  MCX_ALERT_STREAM_MAX_PER_USER: int(5, 1, 1_000),
  MCX_ALERT_STREAM_CATCH_UP: int(200, 1, 10_000),
  MCX_ALERT_STREAM_OPENS_PER_MINUTE: int(20, 1, 10_000),
  MCX_ALERT_STREAM_OPEN_BURST: int(10, 1, 10_000),
});

export interface AlertStreamConfig {
  /** A comment line this often, so proxies keep the connection and clients notice a dead one. */
  heartbeatMs: number;
  /** The inbox is read this often as well as on each notification, so a missed one loses nothing. */
  pollMs: number;
  /** Open streams on this node (each replica counts its own). */
  maxStreams: number;
  /** Open streams of one person (issuer and subject) on this node. */
  maxPerUser: number;
  /** Alerts a stream sends on connect before it says the rest is to be read with alerts(after:). */
  catchUp: number;
  /** Streams one person may open: a bucket of `openBurst`, refilled at `opensPerMinute`. */
  opensPerMinute: number;
  openBurst: number;
}

/** The problems with the stream's settings, worded as config.ts words the others. */
export function alertStreamProblems(env: Record<string, string | undefined>): string[] {
  const parsed = AlertStreamEnvSchema.safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** The stream's settings from an environment alertStreamProblems found nothing wrong with. */
export function alertStreamConfig(env: Record<string, string | undefined>): AlertStreamConfig {
  const e = AlertStreamEnvSchema.parse(env);
  return {
    heartbeatMs: e.MCX_ALERT_STREAM_HEARTBEAT_MS,
    pollMs: e.MCX_ALERT_STREAM_POLL_MS,
    maxStreams: e.MCX_ALERT_STREAM_MAX_STREAMS,
    maxPerUser: e.MCX_ALERT_STREAM_MAX_PER_USER,
    catchUp: e.MCX_ALERT_STREAM_CATCH_UP,
    opensPerMinute: e.MCX_ALERT_STREAM_OPENS_PER_MINUTE,
    openBurst: e.MCX_ALERT_STREAM_OPEN_BURST,
  };
}
