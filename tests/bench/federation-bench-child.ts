// One node of tests/bench/federation-bench.ts's "a process per node" federation, in a process of
// its own as a deployed node is: started by federation-bench-processes.ts with `fork`, it starts
// the node, publishes the child at it, reports { url, investigatorToken } and then answers the
// parent's questions over the IPC channel (its CPU time, its breakers, its log counts) until told
// to close or until the parent goes.
//   node --import tsx tests/bench/federation-bench-child.ts '<json: force, env, keysDir, copies>'
import './production-runtime.js';

import { loadNodeKeys } from '@mcx/node';

import { logCounts, startBenchNode } from './federation-bench-nodes.js';

export type ChildQuestion = { id: number; ask: 'cpu' | 'health' | 'logs' | 'close' };
export type ChildAnswer =
  | { ready: { url: string; investigatorToken: string } }
  | { failed: string }
  | { id: number; cpuMs: number }
  | { id: number; health: { code: string; breaker: string }[] }
  | { id: number; logs: typeof logCounts }
  | { id: number; closed: true };

const { force, env, keysDir, copies } = JSON.parse(process.argv[2]!) as {
  force: string;
  env: Record<string, string>;
  keysDir: string;
  copies: number;
};
const send = (m: ChildAnswer) => process.send!(m);

try {
  const node = await startBenchNode(force, env, await loadNodeKeys(keysDir), copies);
  const close = () => node.close().catch(() => undefined);
  process.on('disconnect', () => void close().then(() => process.exit(0)));
  process.on('message', (q: ChildQuestion) => {
    if (q.ask === 'cpu') {
      const c = process.cpuUsage();
      send({ id: q.id, cpuMs: (c.user + c.system) / 1000 });
    } else if (q.ask === 'health') {
      send({ id: q.id, health: (node.node.app.services.federation?.memberHealth() ?? []).map(({ code, breaker }) => ({ code, breaker })) });
    } else if (q.ask === 'logs') {
      send({ id: q.id, logs: logCounts });
    } else if (q.ask === 'close') {
      void close().then(() => {
        send({ id: q.id, closed: true });
        process.disconnect();
      });
    }
  });
  send({ ready: { url: node.node.url, investigatorToken: node.investigatorToken } });
} catch (err) {
  send({ failed: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}
