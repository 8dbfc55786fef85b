/** Helpers of the record locator's tests (tests/federation/record-locator.test.ts). */
import { gql } from 'graphql-tag';

import { PEER_FILTER, PEER_OPERATIONS, requestHash, signFilterCurrent } from '@mcx/federation';
import type { PeerAnswerFault } from '@mcx/node';

import { startFederation } from './federation.js';
import type { TestNode } from './node.js';

/**
 * A federation of real nodes offering every peer operation, each built with these record locator
 * settings (MCX_LOCATOR...: the node reads them from the environment as it builds its services,
 * so they are set only while the nodes start) and these other settings.
 */
export async function startLocatorFederation<M extends string>(
  members: readonly M[],
  locator: Record<string, string>,
  env: Record<string, string>,
): ReturnType<typeof startFederation<M>> {
  const saved = { ...process.env };
  Object.assign(process.env, locator);
  try {
    return await startFederation(members, { capabilities: PEER_OPERATIONS.map((op) => op.name), env });
  } finally {
    process.env = saved;
  }
}

/** Waits until `check` holds (polling), or fails with its last answer. */
export async function eventually<T>(what: () => Promise<T>, check: (t: T) => boolean, withinMs: number): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last = await what();
  while (!check(last)) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await what();
  }
  return { value: last, ms: Date.now() - started };
}

/** How many times `t` has logged refusing `member`'s filter with `code`. */
export const refusalsOf = (t: TestNode, code: string, member: string) =>
  t
    .logs()
    .split('\n')
    .filter((l) => l.includes('membership filter refused') && l.includes(`"code":"${code}"`) && l.includes(`"member":"${member}"`)).length;

/** A member's filter as served, with its statement that it is current. */
export type Served = { version: number; jws: string; bits: string; current: string };

export const FILTER_VARIABLES = { known: null };

/** A node token's claims from `from` (WMP) for mcx.filter/1 with these variables, as `sub`. */
export const filterClaims = (sub: string, from = 'WMP', variables: { known: number | null } = FILTER_VARIABLES) => ({
  act: { sub, iss: `mcx-node:${from}`, org: from, org_kind: 'police', role: 'investigator' },
  purpose: 'MISSING_LIVE_SEARCH',
  case_ref: 'LOCATOR/FILTERS',
  caller_entry: `${from}:1`,
  req_hash: requestHash(PEER_FILTER.hash, variables),
});

/** Replaces `owner`'s filter answers (only those) while the fault is held: `rewrite` gets its real current filter and a true statement. */
export const lieAboutFilter = (owner: TestNode, code: string, rewrite: (f: Served) => unknown): PeerAnswerFault => {
  return async (answer) => {
    const data = answer.data as { peerFilter?: unknown };
    if (!data?.peerFilter) return answer;
    // The real current filter (a not-modified answer carries none), with a true statement that it is current.
    const served = owner.node.app.services.locatorFilter!.published!;
    const current = signFilterCurrent(
      { node: code, version: served.version, jws: served.jws, checkedAt: new Date() },
      owner.keys.auditCheckpoint,
    );
    const fresh = { version: served.version, jws: served.jws, bits: served.bits, current };
    const lie = {
      version: fresh.version + 1,
      notModified: false,
      jws: fresh.jws,
      bits: fresh.bits,
      current,
      ...(rewrite(fresh) as object),
    };
    return { ...answer, data: { peerFilter: lie } };
  };
};

/** federatedEpisodes by identity: the owners and ids found, and each member's status and filter age. */
export const LOCATOR_SEARCH = gql`
  query ($identity: McxChildIdentityInput!) {
    federatedEpisodes(identity: $identity) {
      strong {
        episode {
          owner
          id
        }
      }
      federation {
        completeness
        members {
          member
          status
          reason
          filterAgeMs
        }
      }
    }
  }
`;
export type Row = { member: string; status: string; reason: string | null; filterAgeMs: number | null };
export type Answer = { strong: { episode: { owner: string; id: string } }[]; federation: { completeness: string; members: Row[] } };
