import { existsSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { withNodeDatabase } from './node-database.js';

export function registerRecordsCommands(program: Command): void {
  const records = program.command('records').description("operations on this node's stored records");
  records
    .command('resign')
    .description(
      'after a record key is revoked: sign again, with the current record key, every version signed by it whose stored signature still checks out',
    )
    .requiredOption('--revoked-kid <kid>', 'the kid of the revoked key')
    .option(
      '--revoked-public-key <pem>',
      "the revoked key's public key (SPKI PEM); default: record.<kid>.retired.pem in the keys directory, as mcx keys activate left it",
    )
    .action(async (opts: { revokedKid: string; revokedPublicKey?: string }) => {
      const { loadNodeKeys, RecordService, RecordStore } = await import('@mcx/node');
      const { createDb, runMigrations } = await import('@mcx/db');
      await withNodeDatabase(async ({ config, url }) => {
        const revoked = await revokedKey(config.keysDir, opts.revokedKid, opts.revokedPublicKey);
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
          const { resigned, refused } = await service.resignRevoked(revoked);
          process.stdout.write(`re-signed ${resigned} record versions with ${keys.record.kid}\n`);
          if (refused.length > 0) {
            // Ids and versions only: never content.
            const list = refused.map((r) => `${r.id} v${r.version}`).join(', ');
            process.stdout.write(
              `NOT re-signed: ${refused.length} record versions whose stored signature does not verify under the revoked key ` +
                `(changed in the database since they were signed): ${list}. Readers refuse them; have the force system publish them again\n`,
            );
            process.exitCode = 1;
          }
        } finally {
          await db.close();
        }
      });
    });
}

/** The revoked record key's public half: from the PEM given, else from its retired key file in the keys directory. */
async function revokedKey(keysDir: string, kid: string, pemFile?: string) {
  const { loadVerifyKey, loadSigningKey, toPublicKey } = await import('@mcx/signing');
  const retired = path.join(keysDir, `record.${kid}.retired.pem`);
  if (!pemFile && !existsSync(retired))
    throw new Error(
      `${retired} does not exist: give the revoked key's public key with --revoked-public-key, so that each stored signature is checked before it is replaced`,
    );
  const key = pemFile ? await loadVerifyKey(pemFile, 'record') : toPublicKey(await loadSigningKey(retired, 'record'));
  if (key.kid !== kid) throw new Error(`that key's kid is ${key.kid}, not ${kid}`);
  return key;
}
