import type { Command } from 'commander';

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('development tokens (never accepted by a production node)');
  token
    .command('mint')
    .description('mint a token from the development issuer whose key is in MCX_DATA_DIR (the same the node uses)')
    .requiredOption('--role <role...>', 'publisher | investigator | auditor | operator | router')
    .option('--force <code>', 'the force the token speaks for (default: MCX_FORCE_CODE or WMP)')
    .option('--org-kind <kind>', 'police | local_authority | provider', 'police')
    .option('--subject <sub>', 'a traceable subject, e.g. a staff or client id', 'dev-user-1')
    .option('--kind <kind>', 'user | client (publishers use client credentials)', 'user')
    .option('--ttl <seconds>', 'lifetime', '3600')
    .option('--purpose <code>', 'a coded purpose, e.g. MISSING_LIVE_SEARCH (or send x-mcx-purpose)')
    .option('--case-ref <ref>', 'a case reference, e.g. WMP-26-1234 (or send x-mcx-case-ref)')
    .action(
      async (opts: {
        role: string[];
        force?: string;
        orgKind: string;
        subject: string;
        kind: string;
        ttl: string;
        purpose?: string;
        caseRef?: string;
      }) => {
        const { loadConfig, loadOrCreateDevIssuer } = await import('@mcx/node');
        const config = loadConfig();
        if (!config.auth.devIssuer) throw new Error('the development issuer is disabled here (MCX_DEV_ISSUER / production)');
        const issuer = await loadOrCreateDevIssuer(config.dataDir);
        const jwt = await issuer.mintToken({
          roles: opts.role as never,
          force: opts.force ?? config.forceCode,
          orgKind: opts.orgKind as never,
          subject: opts.subject,
          kind: opts.kind as never,
          ttlSec: Number(opts.ttl),
          ...(opts.purpose ? { purpose: opts.purpose } : {}),
          ...(opts.caseRef ? { caseRef: opts.caseRef } : {}),
        });
        process.stdout.write(`${jwt}\n`);
      },
    );
}
