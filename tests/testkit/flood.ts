import { execFile } from 'node:child_process';
import { setPriority } from 'node:os';

/** What each flooding request got back: its status and the refusal's reason (GraphQL extensions.reason), or the network error. */
export interface FloodResult {
  status: number | null;
  reason: string | null;
  error: string | null;
}

// Runs in a separate Node process: the attacker is outside the node, as in production, so the
// node's event loop carries only the node's own work.
const SCRIPT = `
const { url, count, depth, headers } = JSON.parse(process.argv[1]);
const body = Buffer.from('{"query":"query($v: [Int]) { __typename }","variables":{"v":' + '['.repeat(depth) + ']'.repeat(depth) + '}}');
const results = await Promise.all(Array.from({ length: count }, async () => {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    let reason = null;
    try { reason = JSON.parse(text).errors?.[0]?.extensions?.reason ?? null; } catch {}
    return { status: res.status, reason, error: null };
  } catch (err) {
    return { status: null, reason: null, error: String(err?.cause?.code ?? err?.message ?? err) };
  }
}));
process.stdout.write(JSON.stringify(results));
`;

/**
 * Sends `count` POSTs at once, each a JSON body whose variables nest `depth` arrays deep (two bytes
 * a level: 1.5 million levels are 3 MB), from a child process, and resolves with what each got.
 */
export function floodNested(url: string, opts: { count: number; depth: number; headers?: Record<string, string> }): Promise<FloodResult[]> {
  const args = JSON.stringify({ url, count: opts.count, depth: opts.depth, headers: opts.headers ?? {} });
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', SCRIPT, args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as FloodResult[]),
    );
    // The attacker's own CPU is not the node's: on a machine of two cores, the sender runs at the
    // lowest priority so that building and sending 150 MB does not starve the node being measured.
    if (child.pid !== undefined) setPriority(child.pid, 19);
  });
}
