import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

/** Runs the real `mcx` CLI in a child process and returns its stdout; throws with stderr on failure. */
export async function mcx(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await mcxExit(args, env);
  if (out.code !== 0) throw new Error(`mcx ${args.join(' ')} failed: ${out.stderr}`);
  return out.stdout;
}

/** Runs the real `mcx` CLI in a child process: its exit code, stdout and stderr, whatever the code. */
export async function mcxExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}
