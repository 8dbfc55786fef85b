import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run three force nodes (WMP, GMP, MPS) on one embedded PostgreSQL, each with its own database')
    .option('--base-port <port>', 'port of the first node; the others follow', '4001')
    .option('--no-seed', 'do not publish synthetic demo data')
    .action(async (opts: { basePort: string; seed: boolean }) => {
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo({ basePort: Number(opts.basePort), seed: opts.seed });
    });
}
