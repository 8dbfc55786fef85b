// Peer calls of one childHistory (issue 23), for npm run bench:locator: a child with episodes at
// three members, each naming an associate that member holds, one more associate held by a fourth
// member that holds no episode of the child, and a location of concern near where the child was
// found at the first. The calls are read from the caller's own audit: each federated read of the
// history is one COMBINATION entry naming every member with what it did (`GMP:ANSWERED`, or
// `MPS:NOT_HOLDING@<filter version>` for a member the locator did not ask).
import { ChildHistoryDocument, PublishSubjectDocument, type McxClient } from '@mcx/client';
import type { RunningNode } from '@mcx/node';

import { episodeInput, publishEpisode } from '../testkit/episodes.js';
import { associateInput, locationInput, publishAssociate, publishLocation } from '../testkit/records.js';
import { identity } from './locator-bench-support.js';

interface Member {
  node: RunningNode;
  publisher: McxClient;
  investigator: McxClient;
}

const PLACE = { uprn: '100010000001', postcode: 'FY1 1AA', lat: 53.8175, lon: -3.051 };
const GRADING = { scheme: '3x5x2' as const, source: '2', intelligence: 'B', handling: 'P', conditions: [] };
/** Outside the searches' population (0..SUBJECTS+1). */
const CHILD = 9000;

/** Publishes the child at `holders[0..2]`, their associates, a fourth member's associate, and a place near the found place at the first. */
export async function seedHistoryChild(members: Map<string, Member>, holders: readonly string[]): Promise<void> {
  const reviewAt = new Date(Date.now() + 400 * 86400_000).toISOString().slice(0, 10);
  const other = holders[3]!;
  const { associate: far } = await publishAssociate(members.get(other)!.publisher, associateInput());
  await publishLocation(members.get(holders[0]!)!.publisher, locationInput({ location: PLACE, grading: GRADING }));
  for (const [i, code] of holders.slice(0, 3).entries()) {
    const { publisher } = members.get(code)!;
    const { associate } = await publishAssociate(publisher, associateInput());
    const subjectRef = `SUBJ-HIST-${code}`;
    const { publishSubject } = await publisher.request(PublishSubjectDocument, {
      input: { subjectRef, reviewAt, identity: identity(CHILD) },
    });
    if (publishSubject.errors.length) throw new Error(`history child refused at ${code}`);
    const links = [
      { owner: code, associateId: associate!.id, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const },
      ...(i === 0 ? [{ owner: other, associateId: far!.id, role: 'FOUND_WITH' as const, dataSubjectCategory: 'SUSPECT' as const }] : []),
    ];
    const { errors } = await publishEpisode(
      publisher,
      episodeInput({ subjectRef, foundPlace: { kind: 'OTHER', location: PLACE }, associates: links }),
    );
    if (errors.length) throw new Error(`history episode refused at ${code}: ${JSON.stringify(errors)}`);
  }
}

/** One childHistory by `member` (of the seeded child, or of `child`): the peer calls it made (every member named in its combinations but NOT_HOLDING), and whether it was COMPLETE. */
export async function historyCalls(
  member: Pick<Member, 'node' | 'investigator'>,
  child: Record<string, unknown> = identity(CHILD),
): Promise<{ calls: number; reads: number; complete: boolean; locations: number; problems: string[]; cuts: string[] }> {
  const audit = member.node.app.services.audit;
  const combinations = async () => audit.list({ action: 'combination' }, { first: 100_000 });
  const before = (await combinations()).length;
  const { childHistory } = await member.investigator.request(ChildHistoryDocument, { identity: child as never });
  const made = (await combinations()).slice(before);
  const named = made.flatMap((e) => e.entry.query.recordIds);
  return {
    calls: named.filter((r) => /^[A-Z0-9_-]+:[A-Z_]+/.test(r) && !r.includes(':NOT_HOLDING')).length,
    reads: made.length,
    complete: childHistory.federation.completeness === 'COMPLETE',
    locations: childHistory.locationsOfConcern.length,
    problems: childHistory.federation.members
      .filter((m) => m.status !== 'ANSWERED' && m.status !== 'NOT_HOLDING')
      .map((m) => `${m.member}:${m.status}/${m.reason ?? '-'}`),
    cuts: childHistory.federation.cuts,
  };
}
