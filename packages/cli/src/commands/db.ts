import type { Command } from 'commander';

import { withNodeDatabase } from './node-database.js';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database operations');
  db.command('migrate')
    .description(
      'apply the committed migrations as the schema owner: MCX_MIGRATION_DATABASE_URL, else DATABASE_URL, else the embedded database (development)',
    )
    .action(async () => {
      const { runMigrations } = await import('@mcx/db');
      // Migrating needs the database and nothing else: no keys, issuers or manifest, even in production.
      await withNodeDatabase(
        async ({ config, url }) => {
          const target = config.migrationDatabaseUrl ?? url;
          const applied = await runMigrations(target);
          const u = new URL(target);
          const where = `${decodeURIComponent(u.pathname.slice(1))} as ${decodeURIComponent(u.username)}`;
          process.stdout.write(applied > 0 ? `applied ${applied} migrations to ${where}\n` : `nothing pending: ${where} is current\n`);
        },
        { purpose: 'migrate' },
      );
    });
}
