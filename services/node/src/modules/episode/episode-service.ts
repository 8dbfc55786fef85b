import type { McxCloseEpisodeInput, MissingEpisodeInput } from '../../__generated__/resolvers-types.js';
import type { AuthorisedRead } from '../../auth/access.js';
import type { AuditService } from '../audit/audit-service.js';
import { auditConsultation } from '../audit/read-audit.js';
import type { Discloser } from '../disclosure/disclose.js';
import { withholdingRule } from '../disclosure/policy.js';
import { shapeByPolicy } from '../disclosure/shape-by-policy.js';
import type { Grading } from '../records/grading.js';
import { outcomeError, type Published, type RecordService } from '../records/record-service.js';
import type { InTx } from '../records/record-store-model.js';
import { InputChecker } from '../records/validation.js';
import type { EpisodeModel, EpisodeRecord } from './episode-model.js';
import { episodeSpec, episodeToInput } from './episode-spec.js';

export interface EpisodeServiceDeps {
  records: RecordService;
  forceCode: string;
  disclosure: Discloser;
  audit: AuditService;
  /** Alerts: an OPEN episode's outbox row, written inside the episode's own transaction. */
  alerts?: { outboxWriter(audit: InTx, inputs: readonly MissingEpisodeInput[]): InTx };
}

/** Which page of this force's episodes: of one subject or all, `first` of them after a cursor. */
export interface EpisodePageRequest {
  subjectRef: string | null;
  first: number;
  after: string | null;
}

/** A page as released: the episodes the policy lets this reader see, and counts of what was withheld. */
export interface EpisodePage {
  nodes: EpisodeModel[];
  nextCursor: string | null;
  withheld: { restricted: number; reviewOverdue: number; integrityFault: number; notDisclosable: number };
}

const key = (r: { record: { owner: string; id: string } }) => `${r.record.owner}/${r.record.id}`;

/** Episodes: the generic write path plus closing, which builds on the current version; and the policy-shaped, audited list. */
export class EpisodeService {
  constructor(private readonly deps: EpisodeServiceDeps) {}

  publish(input: MissingEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    return this.deps.records.publish(episodeSpec, input, inTx ? { inTx: this.withOutbox(inTx, [input]) } : {});
  }

  /** The write's audit, and for each OPEN episode stored its alert outbox row, in one transaction. */
  private withOutbox(inTx: InTx, inputs: readonly MissingEpisodeInput[]): InTx {
    return this.deps.alerts ? this.deps.alerts.outboxWriter(inTx, inputs) : inTx;
  }

  publishBatch(inputs: readonly MissingEpisodeInput[], inTx?: InTx) {
    return this.deps.records.publishBatch(episodeSpec, inputs, inTx ? { inTx: this.withOutbox(inTx, inputs) } : {});
  }

  amend(input: MissingEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    return this.deps.records.publish(episodeSpec, input, { mustExist: true, ...(inTx ? { inTx: this.withOutbox(inTx, [input]) } : {}) });
  }

  /** Closes an episode: the current version with status CLOSED and the find recorded. */
  async close(input: McxCloseEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    const c = new InputChecker();
    const id = c.uuid('id', input.id);
    c.version('version', input.version);
    if (!id || c.errors.length > 0) return { record: null, errors: c.errors };
    // The next version builds on the stored one: only on bytes whose stored signature verifies.
    const current = await this.deps.records.load<EpisodeRecord>('episode', this.deps.forceCode, id);
    if (current.status === 'fault')
      return { record: null, errors: [outcomeError({ status: 'INTEGRITY_FAULT', currentVersion: current.row.version })!] };
    if (current.status === 'absent' || current.stored.state === 'RETRACTED')
      return {
        record: null,
        errors: [{ field: 'id', code: 'NOT_FOUND', message: 'no open episode with this id has been published by this force' }],
      };
    const merged: MissingEpisodeInput = {
      ...episodeToInput(current.stored.record),
      version: input.version,
      status: 'CLOSED',
      foundAt: input.foundAt,
      foundPlace: input.foundPlace,
      foundBy: input.foundBy,
      returnInterview: input.returnInterview,
    };
    return this.deps.records.publish(episodeSpec, merged, { mustExist: true, ...(inTx ? { inTx } : {}) });
  }

  /**
   * A page of this force's episodes for one reader: the owner's policy on every record of the
   * page, and the consultation audited before release. What the policy withholds is counted
   * across all pages, from the gradings of the readable records.
   */
  async list(read: AuthorisedRead, page: EpisodePageRequest): Promise<EpisodePage> {
    const found = await this.deps.records.listLocal<EpisodeRecord>('episode', { ...page, countGradings: true });
    const shaped = found.nodes.map((n) => shapeByPolicy(this.deps.disclosure, read.requester, n));
    const nodes = shaped.flatMap((s) => ('released' in s ? [s.released] : []));
    const reasons = [
      shaped.some((s) => 'withheld' in s) ? 'NOT_DISCLOSABLE' : null,
      found.withheld.integrityFault > 0 ? 'INTEGRITY_FAULT' : null,
    ];
    const reason = reasons.filter(Boolean).join(',') || null;
    await auditConsultation(this.deps.audit, read, 'localEpisodes', [], nodes.map(key), reason);
    return {
      nodes,
      nextCursor: found.nextCursor,
      withheld: { ...found.withheld, notDisclosable: this.notDisclosable(read, found.gradings) },
    };
  }

  /** How many readable episodes the owner's policy withholds from this reader, by their gradings. */
  private notDisclosable(read: AuthorisedRead, gradings: readonly { grading: Grading | null; count: number }[]): number {
    const { policy } = this.deps.disclosure;
    const owner = this.deps.forceCode;
    return gradings.reduce(
      (sum, g) => sum + (withholdingRule(policy, read.requester, { kind: 'episode', owner, grading: g.grading }) ? g.count : 0),
      0,
    );
  }
}
