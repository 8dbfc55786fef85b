// The top functions of a V8 .cpuprofile by self time (and the packages they sit in), for reading
// where a benchmark spends its CPU:  npx tsx tests/bench/cpuprofile-top.ts <file.cpuprofile> [N]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile-top.ts <file.cpuprofile> [N]');
const top = Number(topArg ?? 30);
// `node --cpu-prof` writes a profile per thread: a shell glob hands over several files, and the second would be read as N.
if (!Number.isInteger(top) || top < 1) throw new Error(`usage: cpuprofile-top.ts <file.cpuprofile> [N]: N must be a count, got ${topArg}`);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Self time per node from the samples and their time deltas (µs).
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()].filter(([id]) => /^\((idle|program|garbage collector)\)$/.test(byId.get(id)!.callFrame.functionName));

const where = (f: CallFrame) => {
  const u = f.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1]!;
  const repo = /(packages|services|tests)\/.*$/.exec(u);
  return repo ? repo[0] : u || '(native)';
};
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${where(f)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const pkg = f.url ? where(f).split('/').slice(0, 3).join('/') : f.functionName;
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
};
process.stdout.write(
  `total ${(total / 1000).toFixed(0)} ms sampled; idle/program/gc ${idle.map(([id, us]) => `${byId.get(id)!.callFrame.functionName} ${pct(us)}`).join(', ')}\n`,
);
show('self time by function', byFn);
show('self time by package / source folder', byPkg);
