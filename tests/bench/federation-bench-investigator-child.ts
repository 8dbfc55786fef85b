// The investigator of tests/bench/federation-bench.ts in a process of its own: started by
// federation-bench-investigator.ts with `fork`, it asks one node federatedEpisodes(identity) over
// HTTP as the runs ask (open and closed loops, warm-up, settle) and answers each run's figures
// over the IPC channel, with its own CPU per query. Its CPU is then not in the measured process's:
// an investigator's client is not part of what a federated query costs the nodes.
//   node --import tsx tests/bench/federation-bench-investigator-child.ts '<json: url, token, force>'
import './production-runtime.js';

import { closedLoop, openLoop, settle, warmUp } from './federation-bench-load.js';
import { askerAt, investigatorClient } from './federation-bench-nodes.js';

export type InvestigatorRun =
  | { run: 'open'; expected: number; rate: number; seconds: number }
  | { run: 'closed'; concurrency: number; seconds: number }
  | { run: 'warm'; expected: number }
  | { run: 'settle' };
export type InvestigatorQuestion = { id: number } & InvestigatorRun;
/** A run's figures as the loops give them, with their Map of problems as entries (IPC carries JSON). */
export type InvestigatorAnswer = { ready: true } | { id: number; result: Record<string, unknown> | null } | { id: number; failed: string };

const { url, token, force } = JSON.parse(process.argv[2]!) as { url: string; token: string; force: string };
const ask = askerAt(investigatorClient(url, token, force));
// PostgreSQL's CPU is read by the parent, around the whole run.
const noServer = { cpuMs: () => null };
const send = (a: InvestigatorAnswer) => process.send!(a);
const plain = (r: { problems: Map<string, number> }) => ({ ...r, problems: [...r.problems] });

process.on('disconnect', () => process.exit(0));
process.on('message', (q: InvestigatorQuestion) => {
  const run = async (): Promise<Record<string, unknown> | null> => {
    if (q.run === 'open') return plain(await openLoop(noServer, ask, q.expected, q.rate, q.seconds));
    if (q.run === 'closed') return plain(await closedLoop(ask, q.concurrency, q.seconds));
    if (q.run === 'warm') await warmUp(ask, q.expected);
    else await settle(ask);
    return null;
  };
  run().then(
    (result) => send({ id: q.id, result }),
    (err: unknown) => send({ id: q.id, failed: err instanceof Error ? err.message : String(err) }),
  );
});
send({ ready: true });
