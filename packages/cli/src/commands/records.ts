import type { Command } from 'commander';

import { withNodeDatabase } from './node-database.js';

export function registerRecordsCommands(program: Command): void {
  const records = program.command('records').description("operations on this node's stored records");
  records
    .command('resign')
    .description('after a record key is revoked: sign again, with the current record key, every version signed by it')
    .requiredOption('--revoked-kid <kid>', 'the kid of the revoked key')
    .action(async (opts: { revokedKid: string }) => {
      const { loadNodeKeys, RecordService, RecordStore } = await import('@mcx/node');
      const { createDb, runMigrations } = await import('@mcx/db');
      await withNodeDatabase(async ({ config, url }) => {
        const db = createDb(url, { max: 2 });
        try {
          await runMigrations(url);
          const keys = await loadNodeKeys(config.keysDir);
          const service = new RecordService({
            store: new RecordStore(db.db),
            recordKey: keys.record,
            forceCode: config.forceCode,
            clockSkewSeconds: config.clockSkewSeconds,
            isKnownOrganisation: () => false,
            isKnownAuthority: () => false,
          });
          const n = await service.resignRevoked(opts.revokedKid);
          process.stdout.write(`re-signed ${n} record versions with ${keys.record.kid}\n`);
        } finally {
          await db.close();
        }
      });
    });
}
