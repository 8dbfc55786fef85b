import type { Logger } from '@mcx/logger';
import type { EpisodeService } from './modules/episode/episode-service.js';
import type { RecordService } from './modules/records/record-service.js';

/** Per-process services, built once in createApp and shared by every request. */
export interface Services {
  records: RecordService;
  episodes: EpisodeService;
}

/** What every resolver receives. Built once per request by createContext. */
export interface Context {
  requestId: string;
  logger: Logger;
  forceCode: string;
  services: Services;
}

/** Builds the per-request context; access control joins here (see issue "Identity and access"). */
export function createContext(input: { requestId: string; logger: Logger; forceCode: string; services: Services }): Context {
  return { requestId: input.requestId, logger: input.logger.child({ requestId: input.requestId }), forceCode: input.forceCode, services: input.services };
}
