import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

/** Writes a secret file with mode 0600, atomically: a crash never leaves half a keys file. */
function writeSecretJson(file: string, value: unknown, { overwrite }: { overwrite: boolean }): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (!overwrite) return writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/** `mcx linkage ...`: the federation operator's OPRF keys and linkage service. */
export function registerLinkageCommands(program: Command): void {
  const linkage = program
    .command('linkage')
    .description("the federation operator's linkage service (RFC 9497 OPRF evaluation for members)");

  linkage
    .command('keygen')
    .description('write a new linkage keys file with one active OPRF key (mode 0600); never overwrites')
    .requiredOption('--out <file>', 'the keys file to write (the service reads MCX_LINKAGE_KEYS_FILE)')
    .option('--version <version>', 'the key version name', 'k1')
    .action(async (opts: { out: string; version: string }) => {
      const { newKeysFile } = await import('@mcx/linkage-service');
      if (existsSync(opts.out)) throw new Error(`${opts.out} exists; refusing to overwrite a linkage key`);
      writeSecretJson(opts.out, newKeysFile(opts.version), { overwrite: false });
      process.stdout.write(
        `wrote ${opts.out} with key version ${opts.version} (active); keep it secret: it is the federation's linkage key\n`,
      );
    });

  linkage
    .command('add-version')
    .description(
      'rekey step 1: add a new active key; the previous one stays, inactive, so nodes can still ask for it during the changeover',
    )
    .requiredOption('--file <file>', 'the linkage keys file')
    .requiredOption('--version <version>', 'the new key version name, e.g. k2')
    .action(async (opts: { file: string; version: string }) => {
      const { addKeyVersion } = await import('@mcx/linkage-service');
      let current: unknown;
      try {
        current = JSON.parse(readFileSync(opts.file, 'utf8'));
      } catch {
        throw new Error(`${opts.file} is not a readable JSON keys file`);
      }
      const next = addKeyVersion(current, opts.version);
      writeSecretJson(opts.file, next, { overwrite: true });
      const kept = next
        .filter((e) => !e.active)
        .map((e) => e.version)
        .join(', ');
      process.stdout.write(
        `key version ${opts.version} is now active; kept inactive: ${kept}. Restart every linkage service replica, ` +
          'then have force systems re-send identities (rekeySubject) before removing an old version\n',
      );
    });

  linkage
    .command('start')
    .description(
      'run the linkage service from the environment (MCX_LINKAGE_KEYS_FILE, MCX_MANIFEST_FILE, ...); SIGTERM stops it, SIGHUP reloads the manifest',
    )
    .action(async () => {
      const { main } = await import('@mcx/linkage-service');
      await main();
    });
}
