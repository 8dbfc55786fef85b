/**
 * The settings of the child's history and of the associates' link counts behind it: part of the
 * node's environment schema (config.ts spreads HISTORY_ENV into EnvSchema, so their problems are
 * listed with every other), kept here because config.ts is full.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const DAY_SECONDS = 86_400;

export const HISTORY_ENV = {
  MCX_REPEAT_THRESHOLD_COUNT: int(3, 1, 100),
  MCX_REPEAT_THRESHOLD_DAYS: int(90, 1, 3650),
  MCX_HISTORY_NEAR_METRES: int(500, 1, 50000),
  // The owner recounts each associate's cross-force links at least this often (at most daily).
  MCX_LINK_COUNTS_REFRESH_SECONDS: int(DAY_SECONDS, 1, DAY_SECONDS),
  // After a recount some member did not answer: the next try for those associates (old counts kept meanwhile).
  MCX_LINK_COUNTS_RETRY_SECONDS: int(300, 1, DAY_SECONDS),
  // Associates per link-count request to each member (the peer operation takes at most 50).
  MCX_LINK_COUNTS_BATCH: int(50, 1, 50),
};

type HistoryEnv = { [K in keyof typeof HISTORY_ENV]: z.infer<(typeof HISTORY_ENV)[K]> };

/** How the owner keeps its associates' link counts fresh (services/node/src/modules/associate/link-count-service.ts). */
export interface LinkCountsConfig {
  refreshSeconds: number;
  retrySeconds: number;
  batch: number;
}

/** The part of Config these settings make. */
export interface HistoryConfigParts {
  /** The child's history: the repeat threshold (count in days) and how near a location of concern must be to a destination. */
  history: { repeat: { count: number; days: number }; nearMetres: number };
  /** The associates' cross-force link counts, kept by their owner in the background. */
  linkCounts: LinkCountsConfig;
}

export function historyConfig(e: HistoryEnv): HistoryConfigParts {
  return {
    history: { repeat: { count: e.MCX_REPEAT_THRESHOLD_COUNT, days: e.MCX_REPEAT_THRESHOLD_DAYS }, nearMetres: e.MCX_HISTORY_NEAR_METRES },
    linkCounts: {
      refreshSeconds: e.MCX_LINK_COUNTS_REFRESH_SECONDS,
      retrySeconds: Math.min(e.MCX_LINK_COUNTS_RETRY_SECONDS, e.MCX_LINK_COUNTS_REFRESH_SECONDS),
      batch: e.MCX_LINK_COUNTS_BATCH,
    },
  };
}
