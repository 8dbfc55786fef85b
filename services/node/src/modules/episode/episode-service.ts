import type { McxCloseEpisodeInput, MissingEpisodeInput } from '../../__generated__/resolvers-types.js';
import { outcomeError, type Published, type RecordService } from '../records/record-service.js';
import type { InTx } from '../records/record-store.js';
import { InputChecker } from '../records/validation.js';
import type { EpisodeRecord } from './episode-model.js';
import { episodeSpec, episodeToInput } from './episode-spec.js';

/** Episodes: the generic write path plus closing, which builds on the current version. */
export class EpisodeService {
  constructor(
    private readonly records: RecordService,
    private readonly forceCode: string,
  ) {}

  publish(input: MissingEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    return this.records.publish(episodeSpec, input, inTx ? { inTx } : {});
  }

  publishBatch(inputs: readonly MissingEpisodeInput[], inTx?: InTx) {
    return this.records.publishBatch(episodeSpec, inputs, inTx ? { inTx } : {});
  }

  amend(input: MissingEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    return this.records.publish(episodeSpec, input, { mustExist: true, ...(inTx ? { inTx } : {}) });
  }

  /** Closes an episode: the current version with status CLOSED and the find recorded. */
  async close(input: McxCloseEpisodeInput, inTx?: InTx): Promise<Published<EpisodeRecord>> {
    const c = new InputChecker();
    const id = c.uuid('id', input.id);
    c.version('version', input.version);
    if (!id || c.errors.length > 0) return { record: null, errors: c.errors };
    // The next version builds on the stored one: only on bytes whose stored signature verifies.
    const current = await this.records.load<EpisodeRecord>('episode', this.forceCode, id);
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
    return this.records.publish(episodeSpec, merged, { mustExist: true, ...(inTx ? { inTx } : {}) });
  }

  /** A page of this force's episodes, with the gradings of all readable ones (for the withheld count). */
  list(opts: { subjectRef?: string | null; first: number; after?: string | null }) {
    return this.records.listLocal<EpisodeRecord>('episode', { ...opts, countGradings: true });
  }
}
