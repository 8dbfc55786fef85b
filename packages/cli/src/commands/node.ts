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

  node
    .command('init')
    .description(
      "write a force's production configuration into <dir>: keys, mcx.env, issuers files for Entra ID and Keycloak, database.sql and public/ for the federation operator",
    )
    .argument('<dir>', 'an empty or new directory')
    .requiredOption('--force <code>', 'the force or authority code, e.g. WMP')
    .option('--name <name>', 'the organisation name, for the manifest')
    .option('--kind <kind>', 'police | local_authority | provider', 'police')
    .option('--endpoint <url>', "the node's https URL as other members will call it")
    .option('--db-host <host>', "the PostgreSQL server's host name", 'db.internal')
    .option('--db-port <port>', "the PostgreSQL server's port", '5432')
    .option('--config-path <path>', 'where these files will be on the node (the paths in mcx.env); default: <dir>')
    .action(
      async (
        dir: string,
        opts: {
          force: string;
          name?: string;
          kind: string;
          endpoint?: string;
          dbHost: string;
          dbPort: string;
          configPath?: string;
        },
      ) => {
        const { initNode } = await import('./node-init.js');
        const path = await import('node:path');
        if (!/^[A-Z0-9]{2,8}$/.test(opts.force)) throw new Error('--force must be 2-8 upper-case letters or digits, e.g. WMP');
        if (!['police', 'local_authority', 'provider'].includes(opts.kind))
          throw new Error('--kind must be police, local_authority or provider');
        const dbPort = Number(opts.dbPort);
        if (!Number.isInteger(dbPort) || dbPort < 1 || dbPort > 65535) throw new Error('--db-port must be a port number (1-65535)');
        const code = opts.force.toLowerCase();
        const written = await initNode(dir, {
          force: opts.force,
          name: opts.name ?? opts.force,
          kind: opts.kind as 'police',
          endpoint: opts.endpoint ?? `https://mcx.${code}.example`,
          dbHost: opts.dbHost,
          dbPort,
          configPath: opts.configPath ?? path.resolve(dir),
        });
        process.stdout.write(
          `wrote ${written.length} files to ${dir}:\n${written.map((f) => `  ${f}`).join('\n')}\n` +
            'next: the DBA runs database.sql; copy an issuers.*.json to issuers.json and edit it; send public/ to the federation operator;\n' +
            'put operator.pub.pem and manifest.jws from the operator beside them; fill in mcx.env; then mcx doctor --env-file mcx.env\n',
        );
      },
    );
}
