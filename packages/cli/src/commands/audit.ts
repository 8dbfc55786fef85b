import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description("check an audit export (JSON Lines) against the node's audit-checkpoint public key, without the database")
    .argument('<export>', 'the export file')
    .requiredOption('--public-key <pem>', "the node's audit-checkpoint public key (SPKI PEM)")
    .action(async (file: string, opts: { publicKey: string }) => {
      const { verifyExport } = await import('@mcx/audit');
      const result = verifyExport(readFileSync(file, 'utf8'), readFileSync(opts.publicKey, 'utf8'));
      process.stdout.write(`${result.report.join('\n')}\n`);
      // Exit 0 only when every entry is covered by a valid checkpoint; 2 when some are unverified.
      process.exitCode = result.status === 'ok' ? 0 : result.status === 'unverified' ? 2 : 1;
    });
}
