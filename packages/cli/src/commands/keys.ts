import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import type { SigningKey } from '@mcx/signing';

const JOB_FILES = { record: 'record.pem', 'peer-token': 'peer-token.pem', 'audit-checkpoint': 'audit-checkpoint.pem' } as const;
type MemberJob = keyof typeof JOB_FILES;

function jobOf(value: string): MemberJob {
  if (!(value in JOB_FILES)) throw new Error(`--job must be one of ${Object.keys(JOB_FILES).join(', ')}`);
  return value as MemberJob;
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("the node's Ed25519 keys (one per job) and the operator's manifest key");

  keys
    .command('generate')
    .description('generate the node keys (record, peer-token, audit-checkpoint) as PKCS8 PEM files; never overwrites')
    .requiredOption('--dir <dir>', 'where to write them (the node reads MCX_KEYS_DIR)')
    .action(async (opts: { dir: string }) => {
      const { generateNodeKeys, writeNodeKeys } = await import('@mcx/node');
      writeNodeKeys(opts.dir, generateNodeKeys());
      process.stdout.write(`wrote ${Object.values(JOB_FILES).join(', ')} to ${opts.dir}\n`);
    });

  keys
    .command('public')
    .description('print the public JWKs (with kid and job) of the node keys in a directory, for `mcx manifest add-member --keys`')
    .requiredOption('--dir <dir>', 'the node keys directory')
    .action(async (opts: { dir: string }) => {
      const { loadSigningKey } = await import('@mcx/signing');
      const out = [];
      for (const [job, file] of Object.entries(JOB_FILES) as [MemberJob, string][]) {
        const key = await loadSigningKey(path.join(opts.dir, file), job);
        out.push({ job, kid: key.kid, jwk: key.jwk });
        const next = path.join(opts.dir, file.replace('.pem', '.next.pem'));
        if (existsSync(next)) {
          const n = await loadSigningKey(next, job);
          out.push({ job, kid: n.kid, jwk: n.jwk, next: true });
        }
      }
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  keys
    .command('rotate')
    .description('step 1 of a rotation: generate <job>.next.pem. Add its public key to the manifest, let it spread, then `keys activate`')
    .requiredOption('--dir <dir>', 'the node keys directory')
    .requiredOption('--job <job>', 'record | peer-token | audit-checkpoint')
    .action(async (opts: { dir: string; job: string }) => {
      const { generateSigningKey, exportPrivateKeyPem } = await import('@mcx/signing');
      const job = jobOf(opts.job);
      const target = path.join(opts.dir, JOB_FILES[job].replace('.pem', '.next.pem'));
      const key = generateSigningKey(job);
      writeFileSync(target, exportPrivateKeyPem(key), { mode: 0o600, flag: 'wx' });
      process.stdout.write(`wrote ${target} (kid ${key.kid}); add it with \`mcx manifest add-key\`\n`);
    });

  keys
    .command('activate')
    .description(
      'step 3 of a rotation: sign with <job>.next.pem from now on; the old key is kept as <job>.<kid>.retired.pem. Restart the node',
    )
    .requiredOption('--dir <dir>', 'the node keys directory')
    .requiredOption('--job <job>', 'record | peer-token | audit-checkpoint')
    .action(async (opts: { dir: string; job: string }) => {
      const { loadSigningKey } = await import('@mcx/signing');
      const job = jobOf(opts.job);
      const current = path.join(opts.dir, JOB_FILES[job]);
      const next = current.replace('.pem', '.next.pem');
      if (!existsSync(next)) throw new Error(`${next} does not exist; run \`mcx keys rotate\` first`);
      const old = await loadSigningKey(current, job);
      // The audit log's linkage digests were keyed from the audit key: pinned first, they stay the same across the rotation.
      if (old.job === 'audit-checkpoint') {
        const { pinLinkageDigestKey, LINKAGE_DIGEST_FILE } = await import('@mcx/node');
        if (pinLinkageDigestKey(opts.dir, old as SigningKey<'audit-checkpoint'>))
          process.stdout.write(
            `wrote ${path.join(opts.dir, LINKAGE_DIGEST_FILE)} (the audit log's linkage-digest key); keep it with the other keys\n`,
          );
      }
      renameSync(current, current.replace('.pem', `.${old.kid}.retired.pem`));
      renameSync(next, current);
      process.stdout.write(`activated; the retired key ${old.kid} stays verify-only in the manifest while records it signed are held\n`);
    });

  keys
    .command('generate-operator')
    .description(
      "the federation operator's manifest-signing key: writes <out> (private, keep offline) and its public key beside it, operator.pem -> operator.pub.pem (nodes pin it)",
    )
    .requiredOption('--out <file>', 'private key file, e.g. operator.pem')
    .action(async (opts: { out: string }) => {
      const { generateSigningKey, exportPrivateKeyPem, exportPublicKeyPem } = await import('@mcx/signing');
      const key = generateSigningKey('manifest');
      const pub = publicKeyFileFor(opts.out);
      writeFileSync(opts.out, exportPrivateKeyPem(key), { mode: 0o600, flag: 'wx' });
      writeFileSync(pub, exportPublicKeyPem(key), { flag: 'wx' });
      process.stdout.write(`operator key ${key.kid}: ${opts.out} (private), ${pub} (public)\n`);
    });
}

/** Where the public half of a private key file goes: operator.pem -> operator.pub.pem, as deploy/runbook.md names it. */
export function publicKeyFileFor(privateFile: string): string {
  return privateFile.endsWith('.pem') ? `${privateFile.slice(0, -'.pem'.length)}.pub.pem` : `${privateFile}.pub.pem`;
}
