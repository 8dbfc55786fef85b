/**
 * What an investigator asks of the federation through their own node. Each read is audited at
 * this end: the consultation before any member is asked (its id goes in every node token), the
 * members' disclosure receipts stored beside it, and the combination of the answers before
 * anything is released. Each read is bounded by its query's deadline, taken once when the query
 * starts (`startQuery()`), so a query of several reads ends within one deadline.
 */
import type { DerivedLinkageKey } from '@mcx/linkage';

import type { McxChildIdentityInput } from '../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../auth/access.js';
import { identityInputError, linkageError, NodeErrorCode, ServiceUnavailableError } from '../errors.js';
import type { AuditService } from '../modules/audit/audit-service.js';
import { committed } from '../modules/audit/read-audit.js';
import type { SubjectService } from '../modules/subject/subject-service.js';
import type { Near } from './answer-checks.js';
import type { FederatedOutcome, FederationClient } from './federation-client.js';
import { cellsNear, withLocator, type FilterView } from './member-selection.js';
import { askHistory, askLocations, askPointers, type FederatedHistory, type FederatedLocations } from './peer-questions.js';

export interface FederatedReadDeps {
  forceCode: string;
  /** The calling end of the peer protocol; null when this node is not federated. */
  federation: FederationClient | null;
  audit: AuditService;
  subjects: SubjectService;
  /** The record locator's view of the members' filters; null or absent: every member is asked. */
  locator?: FilterView | null;
}

/** One federated query's deadline: a `performance.now()` instant, shared by every read of the query. */
export interface QueryDeadline {
  deadlineAt: number;
}

export class FederatedReadService {
  constructor(private readonly deps: FederatedReadDeps) {}

  /** This node's calling end of the peer protocol; SERVICE_UNAVAILABLE, NOT_FEDERATED without a manifest. */
  private federation(): FederationClient {
    if (!this.deps.federation)
      throw new ServiceUnavailableError('This node is not a member of a federation (no trust manifest is installed)', {
        reason: NodeErrorCode.NOT_FEDERATED,
      });
    return this.deps.federation;
  }

  /**
   * Starts a federated query: its one deadline (MCX_FEDERATION_DEADLINE_MS from now), for every
   * read it makes, whether they run side by side or one waits for another. Refuses NOT_FEDERATED.
   */
  startQuery(): QueryDeadline {
    return { deadlineAt: this.federation().deadlineFromNow() };
  }

  /**
   * One federated read, audited at this end: the consultation before any member is asked (its id
   * goes in every node token), the members' receipts stored beside it, and the combination of
   * the answers before anything is released.
   */
  private async audited<A extends FederatedOutcome>(
    read: AuthorisedRead,
    operation: string,
    query: { queryIds: string[]; linkageDigest: string | null; reason: string | null },
    ask: (federation: FederationClient, callerEntry: string) => Promise<A>,
    released: (answer: A) => string[],
  ): Promise<A> {
    const federation = this.federation();
    const { audit, forceCode } = this.deps;
    const base = {
      viewer: read.viewer,
      requestingNode: read.requestingNode,
      purpose: read.purpose,
      caseRef: read.caseRef,
      linkageDigest: query.linkageDigest,
      operation,
    };
    const consultation = await committed(() =>
      audit.record({ ...base, action: 'consultation', queryIds: query.queryIds, recordIds: [], outcome: 'success', reason: query.reason }),
    );
    const callerEntry = `${forceCode}:${consultation.seq}`;
    const answer = await ask(federation, callerEntry);
    // The merge of the members' answers is a combination (DPA 2018 s62): audited before release,
    // in one write with the members' receipts.
    await committed(() =>
      audit.recordWithReceipts(
        {
          ...base,
          action: 'combination',
          // A member skipped by the record locator is named with the filter version that justified it (the owner audited that download).
          queryIds: answer.members.map((m) => `${m.member}:${m.status}${m.filterVersion ? `@${m.filterVersion}` : ''}`),
          recordIds: released(answer),
          outcome: 'success',
          reason: answer.completeness,
          peerEntryId: callerEntry,
        },
        answer.receipts,
        consultation.seq,
      ),
    );
    return answer;
  }

  /**
   * Asks every member for a child's history by the child's identity (federatedEpisodes,
   * childHistory). Without `query`, the query starts here: turning the identity into linkage keys
   * counts against its deadline.
   */
  async history(
    read: AuthorisedRead,
    operation: string,
    identity: McxChildIdentityInput,
    query: QueryDeadline = this.startQuery(),
  ): Promise<FederatedHistory & { keys: DerivedLinkageKey[] }> {
    // Refused before the identity is turned into linkage keys.
    this.federation();
    const { subjects } = this.deps;
    const derived = await subjects.queryKeys(identity).catch(linkageError);
    if ('errors' in derived) throw identityInputError(derived.errors);
    const answer = await this.audited(
      read,
      operation,
      { queryIds: [], linkageDigest: subjects.digest(derived.keys), reason: null },
      (federation, callerEntry) =>
        withLocator(this.deps.locator, federation, derived.keys, (asked) =>
          askHistory(federation, read, derived.keys, callerEntry, query, asked),
        ),
      (a) => [
        ...a.episodes.map((e) => `${e.episode.record.owner}/${e.episode.record.id}`),
        ...a.associates.map((p) => `${p.record.owner}/${p.record.id}`),
      ],
    );
    return { ...answer, keys: derived.keys };
  }

  /** Asks the owners of associates that episodes name, but whose pointers no answer carried, for those pointers and their link counts. */
  pointers(
    read: AuthorisedRead,
    operation: string,
    byOwner: ReadonlyMap<string, readonly string[]>,
    childKeys: DerivedLinkageKey[],
    query: QueryDeadline,
  ) {
    return this.audited(
      read,
      operation,
      {
        queryIds: [...byOwner].flatMap(([owner, ids]) => ids.map((id) => `${owner}/${id}`)),
        linkageDigest: this.deps.subjects.digest(childKeys),
        reason: 'ASSOCIATE_POINTERS',
      },
      (federation, callerEntry) => askPointers(federation, read, byOwner, callerEntry, query),
      (a) => a.pointers.map((p) => `${p.record.owner}/${p.record.id}`),
    );
  }

  /** Asks every member for its locations of concern near points (with the locator on, only those whose filter may hold a cell the points' boxes touch). */
  locations(
    read: AuthorisedRead,
    operation: string,
    near: Near[],
    concerns: readonly string[] | null,
    query: QueryDeadline = this.startQuery(),
  ): Promise<FederatedLocations> {
    return this.audited(
      read,
      operation,
      { queryIds: [], linkageDigest: null, reason: 'LOCATIONS_NEAR' },
      (federation, callerEntry) =>
        withLocator(
          this.deps.locator,
          federation,
          cellsNear(near),
          (asked) => askLocations(federation, read, near, concerns, callerEntry, query, asked),
          true,
        ),
      (a) => a.locations.map((l) => `${l.location.record.owner}/${l.location.record.id}`),
    );
  }
}
