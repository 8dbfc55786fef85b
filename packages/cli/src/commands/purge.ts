import type { Command } from 'commander';

import { withNodeDatabase } from './node-database.js';

export function registerPurgeCommand(program: Command): void {
  program
    .command('purge')
    .description(
      'erase the content of records their owner retracted for erasure (ERASURE_REQUEST, RETENTION_EXPIRED); log each to MCX_ERASURE_LOG',
    )
    .option('--replay', 'after a restore from backup: erase again everything in the erasure log')
    .action(async (opts: { replay?: boolean }) => {
      const { loadNodeKeys, purgeErased, replayErasures, AuditService, AuditStore, RecordService, RecordStore } = await import('@mcx/node');
      const { APP_ROLE, createDb, runMigrations } = await import('@mcx/db');
      await withNodeDatabase(async ({ config, logger, url }) => {
        await runMigrations(config.migrationDatabaseUrl ?? url);
        // The purge acts as the application role, like the node: it can append to the audit log, never change it.
        const db = createDb(url, { max: 2, role: APP_ROLE });
        try {
          const keys = await loadNodeKeys(config.keysDir);
          const audit = new AuditService({ store: new AuditStore(db.db), node: config.forceCode, auditKey: keys.auditCheckpoint, logger });
          if (opts.replay) {
            const records = new RecordService({
              store: new RecordStore(db.db),
              recordKey: keys.record,
              forceCode: config.forceCode,
              clockSkewSeconds: config.clockSkewSeconds,
              isKnownOrganisation: () => true,
              isKnownAuthority: () => true,
            });
            const n = await replayErasures({ db: db.db, audit, records, owner: config.forceCode, erasureLog: config.erasureLog });
            process.stdout.write(`replayed ${n} erasures from ${config.erasureLog}\n`);
          } else {
            const done = await purgeErased({ db: db.db, audit, owner: config.forceCode, erasureLog: config.erasureLog });
            process.stdout.write(`erased ${done.length} records; logged to ${config.erasureLog}\n`);
          }
          await audit.checkpoint();
        } finally {
          await db.close();
        }
      });
    });
}
