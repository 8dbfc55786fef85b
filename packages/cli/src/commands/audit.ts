import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description("check an audit export (JSON Lines) against the node's audit-checkpoint public key, without the database")
    .argument('<export>', 'the export file')
    .requiredOption(
      '--public-key <pem>',
      "the node's audit-checkpoint public key (SPKI PEM, from `mcx audit public-key`); after a rotation, the file from `mcx audit public-key --all`",
    )
    .option(
      '--previous <export>',
      'an older export of the same node, kept since: every entry and checkpoint it held must still be here, unchanged (shows a tail removed with its checkpoints, which one file cannot)',
    )
    .option(
      '--receipts <files...>',
      'receipts files another member holds from this node (its GET /audit/receipts?from=<this node>): every entry and checkpoint they witness must be here, unchanged (shows a tail removed with its checkpoints, with no older export kept)',
    )
    .option(
      '--holder-key <member=pem...>',
      "for each member whose receipts are given, its audit-checkpoint public key (its `mcx audit public-key --all`, from its auditors or the manifest, never from the file): the file's seal must verify with it, or receipts left out of the file would not show (without it the result is at best unchecked)",
    )
    .option(
      '--manifest <file>',
      "the federation's signed trust manifest (with --operator-key): each holder's audit-checkpoint keys are taken from it (revoked ones left out), as well as from any --holder-key",
    )
    .option(
      '--operator-key <pem>',
      "the federation operator's public key (MCX_OPERATOR_PUBLIC_KEY_FILE), which must have signed --manifest",
    )
    .action(
      async (
        file: string,
        opts: { publicKey: string; previous?: string; receipts?: string[]; holderKey?: string[]; manifest?: string; operatorKey?: string },
      ) => {
        const { auditKeysFromPem, compareWithPrevious, compareWithReceipts, parseExport, parseReceiptsFile, verifyExport } =
          await import('@mcx/audit');
        const holderKeys = new Map<string, ReturnType<typeof auditKeysFromPem>>();
        const add = (member: string, keys: ReturnType<typeof auditKeysFromPem>) =>
          holderKeys.set(member, [...(holderKeys.get(member) ?? []), ...keys]);
        for (const given of opts.holderKey ?? []) {
          const m = /^([A-Z0-9][A-Z0-9_-]{1,15})=(.+)$/.exec(given);
          if (!m) throw new Error(`--holder-key ${given}: give <member>=<pem file>, for example GMP=gmp-audit.pem`);
          add(m[1]!, auditKeysFromPem(readFileSync(m[2]!, 'utf8')));
        }
        if ((opts.manifest === undefined) !== (opts.operatorKey === undefined))
          throw new Error('--manifest and --operator-key go together: the manifest counts only under the operator key that signed it');
        if (opts.manifest !== undefined && opts.operatorKey !== undefined) {
          const { loadVerifyKey, verifyKeyFromJwk, verifyManifest } = await import('@mcx/signing');
          const jws = readFileSync(opts.manifest, 'utf8').trim();
          const { manifest } = verifyManifest(jws, await loadVerifyKey(opts.operatorKey, 'manifest'), {
            now: new Date(),
            highestVersionSeen: 0,
          });
          for (const member of manifest.members)
            add(
              member.code,
              member.keys
                .filter((k) => k.job === 'audit-checkpoint' && k.status !== 'revoked')
                .map((k) => verifyKeyFromJwk(k.jwk, 'audit-checkpoint')),
            );
        }
        const current = parseExport(readFileSync(file, 'utf8'));
        const pem = readFileSync(opts.publicKey, 'utf8');
        const result = verifyExport(current, pem);
        const previous = opts.previous ? compareWithPrevious(parseExport(readFileSync(opts.previous, 'utf8')), current) : null;
        const witnesses = (opts.receipts ?? []).map((f) => {
          const receipts = parseReceiptsFile(readFileSync(f, 'utf8'));
          return compareWithReceipts(receipts, current, auditKeysFromPem(pem), holderKeys.get(receipts.header.holder) ?? []);
        });
        process.stdout.write(`${[...result.report, ...(previous?.report ?? []), ...witnesses.flatMap((w) => w.report)].join('\n')}\n`);
        // Exit 1 when anything is tampered with; 0 only when every entry is covered by a valid checkpoint (and the
        // previous export and every receipt are all here); 2 when some entries are unverified or some receipts unchecked.
        const failed = previous?.ok === false || witnesses.some((w) => w.status === 'failed') || result.status === 'failed';
        const unchecked = result.status === 'unverified' || witnesses.some((w) => w.status === 'unchecked');
        process.exitCode = failed ? 1 : unchecked ? 2 : 0;
      },
    );

  audit
    .command('public-key')
    .description(
      "print the node's audit-checkpoint public key as SPKI PEM, for `mcx audit verify --public-key` (give it to the force's auditors)",
    )
    .requiredOption('--dir <dir>', 'the node keys directory (MCX_KEYS_DIR)')
    .option('--kid <kid>', 'a key retired by rotation, for exports its checkpoints signed (default: the current key)')
    .option('--all', 'the current key and every key retired by rotation, one PEM after another: verifies a log that spans rotations')
    .action(async (opts: { dir: string; kid?: string; all?: boolean }) => {
      const { exportPublicKeyPem, loadSigningKey } = await import('@mcx/signing');
      const current = path.join(opts.dir, 'audit-checkpoint.pem');
      const others = (existsSync(opts.dir) ? readdirSync(opts.dir) : []).sort().map((f) => path.join(opts.dir, f));
      if (opts.all) {
        if (!existsSync(current)) throw new Error(`${current} does not exist; run \`mcx keys generate\` first`);
        // The current key first, then the retired ones as the node reads them (a .next key has signed nothing yet).
        const { retiredAuditKeys } = await import('@mcx/node');
        const key = await loadSigningKey(current, 'audit-checkpoint');
        const retired = retiredAuditKeys(opts.dir).filter((k) => k.kid !== key.kid);
        for (const k of [key, ...retired]) process.stdout.write(exportPublicKeyPem(k));
        return;
      }
      const candidates = [current, ...others.filter((f) => /^audit-checkpoint\.(next|.+\.retired)\.pem$/.test(path.basename(f)))];
      for (const file of opts.kid ? candidates : [current]) {
        if (!existsSync(file)) continue;
        const key = await loadSigningKey(file, 'audit-checkpoint');
        if (opts.kid && key.kid !== opts.kid) continue;
        process.stdout.write(exportPublicKeyPem(key));
        return;
      }
      throw new Error(
        opts.kid
          ? `no audit-checkpoint key with kid ${opts.kid} in ${opts.dir}`
          : `${current} does not exist; run \`mcx keys generate\` first`,
      );
    });
}
