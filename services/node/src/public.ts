/** What @mcx/node offers the CLI and the tests. The node's process starts at main() (index.ts). */
export { main } from './index.js';
export { createApp, type App } from './app.js';
export type { AppDeps } from './services.js';
export { parseConfig, loadConfig, ConfigError, type Config } from './config.js';
export { startNode, resolveDatabase, type RunningNode } from './start-node.js';
export {
  generateNodeKeys,
  loadNodeKeys,
  writeNodeKeys,
  loadOrCreateNodeKeys,
  manifestKeys,
  retiredAuditKeys,
  pinLinkageDigestKey,
  readLinkageDigestKey,
  linkageDigestKeyOf,
  LINKAGE_DIGEST_FILE,
  KEY_FILES,
  type NodeKeys,
} from './keys.js';
export { RecordService } from './modules/records/record-service.js';
export { RecordStore } from './modules/records/record-store.js';
export { loadOrCreateDevIssuer, devIssuerKeyFile } from './auth/dev-issuer-file.js';
export { FORWARDED_USER_HEADER } from './auth/access.js';
export { purgeErased, replayErasures, ERASING_REASONS, type Erasure } from './modules/records/purge.js';
export { AuditService } from './modules/audit/audit-service.js';
export { AuditStore } from './modules/audit/audit-store.js';
export { alertId, signAlert } from './modules/alerts/alert-message.js';
export type { PeerAnswerFault } from './federation/peer-endpoint.js';
export { openImporter, IMPORT_KINDS, type ImportKind, type Importer, type Refusal } from './import/history-import.js';
