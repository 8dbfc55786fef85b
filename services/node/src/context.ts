import type { IncomingHttpHeaders } from 'node:http';
import type { CaseRefRules } from '@mcx/auth';
import type { Logger } from '@mcx/logger';
import { RequestAccess, type Principal } from './auth/access.js';
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
  /** The guards: every resolver calls one before it touches a record. */
  access: RequestAccess;
  services: Services;
}

/** Builds the per-request context from the already-verified principal. */
export function createContext(input: {
  requestId: string;
  logger: Logger;
  forceCode: string;
  services: Services;
  principal: Principal | null;
  headers: IncomingHttpHeaders;
  caseRefRules: CaseRefRules;
}): Context {
  return {
    requestId: input.requestId,
    logger: input.logger,
    forceCode: input.forceCode,
    access: new RequestAccess(input.principal, input.headers, input.forceCode, input.caseRefRules),
    services: input.services,
  };
}
