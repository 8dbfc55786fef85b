// The central-copy baseline for tests/bench/federation-bench.ts: one node whose own database holds
// every force's copy of the child (one subject and its episodes per force, TEN.length x
// EPISODES_PER_NODE episodes), asked for the same child's episodes in one query path with one
// audit commit, in this process:
//   the identity's linkage keys (the same OPRF round trip to the linkage service), the subjects
//   matching them, each one's episodes read through the stored-signature check and shaped by the
//   disclosure policy, and one durable consultation entry naming what was released.
// No HTTP and no GraphQL in it (the node's services are called directly), so the ratio
// federated / central slightly overstates what federation adds: the federated figure also carries
// the investigator's request to the node.
import type { Viewer } from '@mcx/auth';

import { auditConsultation } from '../../services/node/src/modules/audit/read-audit.js';
import { shapeByPolicy } from '../../services/node/src/modules/disclosure/shape-by-policy.js';
import { CHILD, type Answer, type BenchFederation } from './federation-bench-nodes.js';

const viewer: Viewer = {
  subject: 'bench-investigator',
  issuer: 'bench',
  force: 'CEN',
  orgKind: 'police',
  roles: ['investigator'],
  tokenKind: 'user',
};

/** The central node's answer to "this child's episodes": strong episodes counted as the federated asker counts them. */
export function centralAsker(f: BenchFederation): () => Promise<Answer> {
  const node = f.nodes[f.forces[0]!]!.node;
  const { subjects, records, disclosure, audit } = node.app.services;
  const read = {
    viewer: { ...viewer, force: node.app.forceCode },
    requestingNode: null,
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: `${node.app.forceCode}-26-1001`,
  };
  const requester = {
    force: node.app.forceCode,
    orgKind: 'police' as const,
    roles: ['investigator' as const],
    purpose: 'MISSING_LIVE_SEARCH' as const,
  };
  return async () => {
    const derived = await subjects.queryKeys(CHILD);
    if ('errors' in derived) throw new Error('the synthetic identity was refused');
    const matches = await subjects.matchQuery(derived.keys);
    const released: string[] = [];
    let strong = 0;
    for (const m of matches) {
      const page = await records.listLocal<{ kind: 'episode'; owner: string; id: string }>('episode', {
        subjectRef: m.subjectRef,
        first: 500,
      });
      for (const n of page.nodes) {
        const shaped = shapeByPolicy(disclosure, requester, n as never);
        if (!('released' in shaped)) continue;
        released.push(`${n.record.owner}/${n.record.id}`);
        if (m.strength === 'STRONG') strong += 1;
      }
    }
    await auditConsultation(audit, { ...read, linkageDigest: subjects.digest(derived.keys) }, 'centralHistory', [], released);
    return { complete: true, strong, problems: [] };
  };
}
