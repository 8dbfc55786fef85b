import type { Command } from 'commander';

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('run a force node');
  node
    .command('start')
    .description('start the node: with no DATABASE_URL, on an embedded PostgreSQL under MCX_DATA_DIR (default .data/)')
    .action(async () => {
      const { main } = await import('@mcx/node');
      await main();
    });
}
