import type { Command } from 'commander';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database operations');
  db.command('migrate')
    .description('apply the committed migrations to DATABASE_URL (or the embedded database when it is unset)')
    .action(async () => {
      const { loadConfig, resolveDatabase } = await import('@mcx/node');
      const { runMigrations } = await import('@mcx/db');
      const { createLogger } = await import('@mcx/logger');
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel });
      const { url, embedded } = await resolveDatabase(config, logger);
      try {
        await runMigrations(url);
        process.stdout.write('migrations applied\n');
      } finally {
        await embedded?.stop();
      }
    });
}
