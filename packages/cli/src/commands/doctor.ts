import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

import type { Command } from 'commander';

/**
 * Node.js reads NODE_EXTRA_CA_CERTS only when a process starts, so a private CA named in the
 * environment file would not be trusted by this process: run the same command again with it set,
 * as the node itself will be started. Returns the exit code of that run, or null when not needed.
 */
function rerunWithExtraCa(env: Record<string, string | undefined>): number | null {
  const ca = env.NODE_EXTRA_CA_CERTS;
  if (!ca || process.env.NODE_EXTRA_CA_CERTS === ca) return null;
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
  });
  return run.status ?? 1;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      "check a node's configuration end to end: database and roles, keys, each issuer's JWKS over TLS, the manifest and this node in it, the linkage service, each member's /healthz",
    )
    .option('--env-file <file>', 'read the configuration from this file (as mcx node init writes it); variables set in the environment win')
    .option('--timeout-ms <ms>', 'how long each network check may take', '5000')
    .action(async (opts: { envFile?: string; timeoutMs: string }) => {
      const env = { ...(opts.envFile ? parseEnv(readFileSync(opts.envFile, 'utf8')) : {}), ...process.env };
      const rerun = rerunWithExtraCa(env);
      if (rerun !== null) {
        process.exitCode = rerun;
        return;
      }
      const { diagnose } = await import('../doctor/doctor.js');
      const findings = await diagnose(env, { timeoutMs: Number(opts.timeoutMs) });
      for (const f of findings) {
        process.stdout.write(f.ok ? `ok    ${f.check}: ${f.detail}\n` : `FAIL  ${f.check}: ${f.detail}\n      fix: ${f.fix}\n`);
      }
      const failed = findings.filter((f) => !f.ok).length;
      process.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check${failed === 1 ? '' : 's'} failed\n`);
      process.exitCode = failed === 0 ? 0 : 1;
    });
}
