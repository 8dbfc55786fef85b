// Where a member's answer to a peer read spends its CPU: two real nodes in this process, N direct
// POST /peer/v1 mcx.history/1 requests from one to the other, one at a time.
//   node --cpu-prof --cpu-prof-dir=<dir> --import tsx tests/bench/federation-bench-profile.ts [N]
//   npx tsx tests/bench/cpuprofile-top.ts <dir>/<file>.cpuprofile
// With `federated` after N: the whole query instead, the bench's ten nodes and N federatedEpisodes
// asked of WMP one at a time (the caller, its linkage keys and all ten members' answers).
// The requests' wall and CPU time per answer are printed; the profile covers the whole run.
import './production-runtime.js';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { directPeer } from './federation-bench-floor.js';
import { asker, startFederation, TEN, type BenchFederation } from './federation-bench-nodes.js';
import { cpuSince, startBenchServer } from './federation-bench-support.js';

process.setMaxListeners(64);
const n = Number(process.argv[2] ?? 1000);
const federated = process.argv[3] === 'federated';
const server = await startBenchServer();
const dataDir = mkdtempSync(path.join(tmpdir(), 'mcx-fedprof-'));
let exitCode = 0;
try {
  const fed = await startFederation(server, federated ? TEN : ['WMP', 'GMP'], dataDir);
  try {
    if (federated) {
      const ask = asker(fed);
      for (let i = 0; i < 20; i++) await ask();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let complete = 0;
      for (let i = 0; i < n; i++) if ((await ask()).complete) complete += 1;
      process.stdout.write(
        `${n} federated queries (${complete} COMPLETE): ${(cpuSince(cpu0) / n).toFixed(2)} ms CPU, ${((performance.now() - t0) / n).toFixed(2)} ms wall each\n`,
      );
    } else await peerAnswers(fed);
  } finally {
    await fed.close();
  }
} catch (err) {
  exitCode = 1;
  process.stderr.write(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await server.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);

async function peerAnswers(fed: BenchFederation): Promise<void> {
  const peer = await directPeer(fed, 'GMP');
  for (let i = 0; i < 100; i++) await peer.post(peer.token());
  // Tokens live 30 s: signed 100 at a time, outside the measured time.
  let cpu = 0;
  let wall = 0;
  for (let done = 0; done < n; done += 100) {
    const tokens = Array.from({ length: Math.min(100, n - done) }, () => peer.token());
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const t of tokens) await peer.post(t);
    wall += performance.now() - t0;
    cpu += cpuSince(cpu0);
  }
  process.stdout.write(
    `${n} peer answers: ${(cpu / n).toFixed(2)} ms CPU, ${(wall / n).toFixed(2)} ms wall each (both ends, this process)\n`,
  );
  await peer.close();
}
