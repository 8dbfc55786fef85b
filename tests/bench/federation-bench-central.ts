// The central-copy baseline for tests/bench/federation-bench.ts: one node whose own database holds
// every force's copy of the child (one subject and its episodes per force, TEN.length x
// EPISODES_PER_NODE episodes), asked for the same child's episodes in one query path with one
// audit commit:
//   the identity's linkage keys (the same OPRF round trip to the linkage service), the subjects
//   matching them, each one's episodes read through the stored-signature check and shaped by the
//   disclosure policy, and one durable consultation entry naming what was released.
// Two ways in, both measured:
//   - `centralOverEdge`, the headline: the investigator asks federatedEpisodes over HTTP, exactly
//     as in the federated runs (the same document, token, gate, GraphQL execution and answer),
//     and the node's federated reads are replaced by the central read (`useCentralReads`). What
//     the two runs differ by is then only what federation adds below the edge.
//   - `centralAsker`, as runs before measured it: the node's services called directly, no HTTP
//     or GraphQL, so federated / central also counts the investigator's edge as a price of
//     federation.
import type { Viewer } from '@mcx/auth';

import type { AuthorisedRead } from '../../services/node/src/auth/access.js';
import { identityInputError } from '../../services/node/src/errors.js';
import type { FederatedReadService } from '../../services/node/src/federation/federated-read-service.js';
import type { FederatedHistory } from '../../services/node/src/federation/peer-questions.js';
import { auditConsultation } from '../../services/node/src/modules/audit/read-audit.js';
import { shapeByPolicy } from '../../services/node/src/modules/disclosure/shape-by-policy.js';
import type { EpisodeRecord } from '../../services/node/src/modules/episode/episode-model.js';
import type { FederatedEpisodeModel } from '../../services/node/src/modules/history/history-model.js';
import { CALLER, CHILD, type Answer, type BenchFederation, type BenchNode } from './federation-bench-nodes.js';

type RunningNode = BenchFederation['nodes'][string]['node'];
type Identity = Parameters<FederatedReadService['history']>[2];

/** The central read: the identity's keys, every matching subject's episodes as the policy shapes them, one consultation entry. */
async function centralRead(node: RunningNode, read: AuthorisedRead, operation: string, identity: Identity) {
  const { subjects, records, disclosure, audit } = node.app.services;
  const derived = await subjects.queryKeys(identity);
  if ('errors' in derived) throw identityInputError(derived.errors);
  const matches = await subjects.matchQuery(derived.keys);
  const episodes: FederatedEpisodeModel[] = [];
  for (const m of matches) {
    const page = await records.listLocal<EpisodeRecord>('episode', { subjectRef: m.subjectRef, first: 500 });
    for (const n of page.nodes) {
      const shaped = shapeByPolicy(disclosure, read.requester, n);
      if (!('released' in shaped)) continue;
      const { subjectRef, strength, matchedKinds, conflicts } = m;
      episodes.push({ member: m.owner, match: { subjectRef, strength, matchedKinds, conflicts }, episode: shaped.released });
    }
  }
  const released = episodes.map((e) => `${e.episode.record.owner}/${e.episode.record.id}`);
  await auditConsultation(audit, { ...read, linkageDigest: subjects.digest(derived.keys) }, operation, [], released);
  return { episodes, keys: derived.keys };
}

/**
 * Makes the node answer federatedEpisodes from its own database (`centralRead`) instead of asking
 * the federation: its one member row says it answered, and nothing else changes at the edge.
 */
function useCentralReads(node: RunningNode): void {
  const self = node.app.forceCode;
  const history = async (read: AuthorisedRead, operation: string, identity: Identity) => {
    const { episodes, keys } = await centralRead(node, read, operation, identity);
    const answer: FederatedHistory = {
      episodes,
      associates: [],
      links: new Map(),
      members: [{ member: self, status: 'ANSWERED', reason: null, latencyMs: 0, withheld: null, dropped: [] }],
      completeness: 'COMPLETE',
      receipts: [],
    };
    return { ...answer, keys };
  };
  (node.app.services as { federatedReads: Pick<FederatedReadService, 'history'> }).federatedReads = { history };
}

/** The central node, to be asked as an investigator asks it: federatedEpisodes over HTTP, answered from its own database. */
export function centralOverEdge(f: BenchFederation): BenchNode {
  const bench = f.nodes[CALLER]!;
  useCentralReads(bench.node);
  return bench;
}

const viewer: Viewer = {
  subject: 'bench-investigator',
  issuer: 'bench',
  force: 'CEN',
  orgKind: 'police',
  roles: ['investigator'],
  tokenKind: 'user',
};

/** The central node's services called directly: strong episodes counted as the federated asker counts them. */
export function centralAsker(f: BenchFederation): () => Promise<Answer> {
  const node = f.nodes[f.forces[0]!]!.node;
  const force = node.app.forceCode;
  const read: AuthorisedRead = {
    viewer: { ...viewer, force },
    requestingNode: null,
    requester: { force, orgKind: 'police', roles: ['investigator'], purpose: 'MISSING_LIVE_SEARCH' },
    purpose: 'MISSING_LIVE_SEARCH',
    caseRef: `${force}-26-1001`,
  };
  return async () => {
    const { episodes } = await centralRead(node, read, 'centralHistory', CHILD);
    return { complete: true, strong: episodes.filter((e) => e.match.strength === 'STRONG').length, problems: [] };
  };
}
