import type { Command } from 'commander';

import { withNodeDatabase } from './node-database.js';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database operations');
  db.command('migrate')
    .description('apply the committed migrations to DATABASE_URL (or the embedded database when it is unset)')
    .action(async () => {
      const { runMigrations } = await import('@mcx/db');
      await withNodeDatabase(async ({ url }) => {
        await runMigrations(url);
        process.stdout.write('migrations applied\n');
      });
    });
}
