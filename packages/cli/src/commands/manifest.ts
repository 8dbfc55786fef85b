import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import type { TrustManifest } from '@mcx/signing';

type PublicKeyEntry = { job: 'record' | 'peer-token' | 'audit-checkpoint'; kid: string; jwk: unknown; next?: boolean };

async function readManifest(file: string): Promise<TrustManifest> {
  const { manifestProblems } = await import('@mcx/signing');
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const problems = manifestProblems(value);
  if (problems.length > 0) throw new Error(`${file} is not a valid manifest:\n  ${problems.join('\n  ')}`);
  return value as TrustManifest;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Decodes a compact JWS payload without verifying it (for display only). */
function decodePayload(jws: string): unknown {
  const part = jws.split('.')[1];
  if (!part) throw new Error('not a compact JWS');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

export function registerManifestCommands(program: Command): void {
  const manifest = program.command('manifest').description('the federation trust manifest (federation operator)');

  manifest
    .command('init')
    .description('start an empty manifest (version 1) as editable JSON')
    .requiredOption('--out <file>', 'the JSON file to write')
    .requiredOption('--operator-key <file>', "the operator's private key (its kid is named in the manifest)")
    .option('--valid-days <n>', 'validity period', '30')
    .option('--grace-days <n>', 'how long nodes warn after validity before refusing', '7')
    .action(async (opts: { out: string; operatorKey: string; validDays: string; graceDays: string }) => {
      const { initManifest, loadSigningKey } = await import('@mcx/signing');
      const operator = await loadSigningKey(opts.operatorKey, 'manifest');
      writeJson(
        opts.out,
        initManifest({ operatorKid: operator.kid, validDays: Number(opts.validDays), graceDays: Number(opts.graceDays) }),
      );
      process.stdout.write(`wrote ${opts.out}\n`);
    });

  manifest
    .command('add-member')
    .description('add a member with its keys (from `mcx keys public`)')
    .requiredOption('--manifest <file>', 'the JSON manifest to edit')
    .requiredOption('--code <code>', 'force or authority code, e.g. WMP')
    .requiredOption('--name <name>', 'organisation name')
    .requiredOption('--kind <kind>', 'police | local_authority | provider')
    .requiredOption('--endpoint <url>', "the node's URL (https in production)")
    .requiredOption('--contact <phone>', "the organisation's 24/7 control room number")
    .requiredOption('--keys <file>', 'JSON output of `mcx keys public`')
    .option('--capabilities <list>', 'comma-separated operation versions the node serves', '')
    .action(
      async (opts: {
        manifest: string;
        code: string;
        name: string;
        kind: string;
        endpoint: string;
        contact: string;
        keys: string;
        capabilities: string;
      }) => {
        const { addMember } = await import('@mcx/signing');
        const m = await readManifest(opts.manifest);
        const keys = (JSON.parse(readFileSync(opts.keys, 'utf8')) as PublicKeyEntry[])
          .filter((k) => !k.next)
          .map((k) => ({ kid: k.kid, job: k.job, jwk: k.jwk as never, status: 'active' as const }));
        const capabilities = opts.capabilities
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        writeJson(
          opts.manifest,
          addMember(m, {
            code: opts.code,
            name: opts.name,
            kind: opts.kind as never,
            endpoint: opts.endpoint,
            contact24x7: opts.contact,
            keys,
            capabilities,
          }),
        );
        process.stdout.write(`added ${opts.code}\n`);
      },
    );

  manifest
    .command('add-key')
    .description("rotation step 2: add a member's new key as active; its previous key for that job becomes verify-only")
    .requiredOption('--manifest <file>', 'the JSON manifest to edit')
    .requiredOption('--code <code>', 'the member')
    .requiredOption('--keys <file>', 'JSON output of `mcx keys public` (entries marked next are added)')
    .action(async (opts: { manifest: string; code: string; keys: string }) => {
      const { addKey } = await import('@mcx/signing');
      let m = await readManifest(opts.manifest);
      for (const k of (JSON.parse(readFileSync(opts.keys, 'utf8')) as PublicKeyEntry[]).filter((e) => e.next)) {
        m = addKey(m, opts.code, { job: k.job, jwk: k.jwk as never });
      }
      writeJson(opts.manifest, m);
      process.stdout.write(`version ${m.version}\n`);
    });

  manifest
    .command('revoke-key')
    .description('revoke a compromised key: records it signed stop verifying until the owner re-signs them (`mcx records resign`)')
    .requiredOption('--manifest <file>', 'the JSON manifest to edit')
    .requiredOption('--kid <kid>', 'the key to revoke')
    .action(async (opts: { manifest: string; kid: string }) => {
      const { setKeyStatus } = await import('@mcx/signing');
      writeJson(opts.manifest, setKeyStatus(await readManifest(opts.manifest), opts.kid, 'revoked'));
      process.stdout.write(`revoked ${opts.kid}\n`);
    });

  manifest
    .command('sign')
    .description('sign the JSON manifest with the operator key; distribute the JWS to every node (MCX_MANIFEST_FILE, then SIGHUP)')
    .requiredOption('--manifest <file>', 'the JSON manifest')
    .requiredOption('--operator-key <file>', "the operator's private key")
    .requiredOption('--out <file>', 'the JWS file to write')
    .action(async (opts: { manifest: string; operatorKey: string; out: string }) => {
      const { loadSigningKey, signManifest } = await import('@mcx/signing');
      const jws = signManifest(await readManifest(opts.manifest), await loadSigningKey(opts.operatorKey, 'manifest'));
      writeFileSync(opts.out, `${jws}\n`);
      process.stdout.write(`wrote ${opts.out}\n`);
    });

  manifest
    .command('show')
    .description('print a signed manifest; with --operator-public-key, verify it first')
    .argument('<jws>', 'the signed manifest file')
    .option('--operator-public-key <file>', 'the pinned operator public key')
    .action(async (file: string, opts: { operatorPublicKey?: string }) => {
      const jws = readFileSync(file, 'utf8').trim();
      if (opts.operatorPublicKey) {
        const { loadVerifyKey, verifyManifest } = await import('@mcx/signing');
        const verified = verifyManifest(jws, await loadVerifyKey(opts.operatorPublicKey, 'manifest'), {
          now: new Date(),
          highestVersionSeen: 0,
        });
        process.stdout.write(`signature: ok (${verified.status})\n`);
      } else {
        process.stdout.write('signature: not checked (pass --operator-public-key)\n');
      }
      process.stdout.write(`${JSON.stringify(decodePayload(jws), null, 2)}\n`);
    });
}
