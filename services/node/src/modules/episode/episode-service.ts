import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { MissingEpisodeInput } from '../../__generated__/resolvers-types.js';
import type { FieldError } from '../records/validation.js';
import type { RecordStore, VersionWrite, WriteOutcome } from '../records/record-store.js';
import { checkEpisodeInput, type EpisodeRules } from './episode-validation.js';
import { EPISODE_SCHEMA, MARKING, episodeFromBytes, type EpisodeContent, type EpisodeModel, type EpisodeRecord } from './episode-model.js';

export interface EpisodeServiceDeps {
  store: RecordStore;
  forceCode: string;
  clockSkewSeconds: number;
  isKnownAuthority(code: string): boolean;
  now?: () => Date;
}

export type PublishResult = { episode: EpisodeModel; errors: [] } | { episode: null; errors: FieldError[] };

/** Canonical JSON (RFC 8785) of a value: the form that is hashed, signed and stored. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new Error('value has no canonical JSON form');
  return out;
}

/** Turns a write outcome that refused a version into the field error a publisher sees. */
export function outcomeError(o: WriteOutcome): FieldError | null {
  switch (o.status) {
    case 'stored':
    case 'unchanged':
      return null;
    case 'CONFLICT':
      return { field: 'version', code: 'CONFLICT', message: 'this version was already published with different content' };
    case 'STALE_VERSION':
      return { field: 'version', code: 'STALE_VERSION', message: `version must be above the current version ${o.currentVersion}` };
    case 'KIND_MISMATCH':
      return { field: 'id', code: 'CONFLICT', message: 'this id is already used by a record of another kind' };
  }
}

/** Publishing and reading episodes: validation, version rules and (later) signing and audit. */
export class EpisodeService {
  private readonly now: () => Date;

  constructor(private readonly deps: EpisodeServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private rules(): EpisodeRules {
    return { now: this.now(), clockSkewSeconds: this.deps.clockSkewSeconds, isKnownAuthority: this.deps.isKnownAuthority };
  }

  /** Builds the write for validated content: hashed without publishedAt, rendered with it. */
  toWrite(content: EpisodeContent): VersionWrite {
    const unsigned: Omit<EpisodeRecord, 'publishedAt'> = {
      schema: EPISODE_SCHEMA,
      kind: 'episode',
      owner: this.deps.forceCode,
      state: 'ACTIVE',
      marking: MARKING,
      ...content,
    };
    const contentHash = createHash('sha256').update(canonicalJson(unsigned)).digest('hex');
    return {
      kind: 'episode',
      owner: this.deps.forceCode,
      id: content.id,
      version: content.version,
      state: 'ACTIVE',
      contentHash,
      render: (publishedAt) => ({ bytes: canonicalJson({ ...unsigned, publishedAt: publishedAt.toISOString() }), signature: null }),
      index: {
        ownerReference: content.ownerReference,
        subjectRef: content.subjectRef,
        episodeStatus: content.facts.status,
        reportedAt: new Date(content.facts.reportedAt),
        lat: content.facts.foundPlace?.location?.lat ?? null,
        lon: content.facts.foundPlace?.location?.lon ?? null,
        postcode: content.facts.foundPlace?.location?.postcode ?? null,
        uprn: content.facts.foundPlace?.location?.uprn ?? null,
        reviewAt: content.reviewAt,
      },
    };
  }

  /** Validates and stores one episode version. Nothing is stored when there are errors. */
  async publish(input: MissingEpisodeInput): Promise<PublishResult> {
    const checked = checkEpisodeInput(input, this.rules());
    if (!checked.ok) return { episode: null, errors: checked.errors };
    const { outcomes } = await this.deps.store.writeVersions([this.toWrite(checked.value)], this.now());
    const outcome = outcomes[0]!;
    const error = outcomeError(outcome);
    if (error) return { episode: null, errors: [error] };
    if (outcome.status !== 'stored' && outcome.status !== 'unchanged') throw new Error('unreachable');
    return { episode: episodeFromBytes(outcome.bytes), errors: [] };
  }

  /** This node's own episodes, newest report first. */
  async listLocal(opts: { subjectRef?: string | null; first: number; after?: string | null }) {
    const page = await this.deps.store.listCurrent({ kind: 'episode', owner: this.deps.forceCode, ...opts });
    return { nodes: page.bytes.map(episodeFromBytes), nextCursor: page.nextCursor };
  }

  async getLocal(owner: string, id: string): Promise<EpisodeModel | null> {
    const bytes = await this.deps.store.currentBytes(owner, id, 'episode');
    return bytes ? episodeFromBytes(bytes) : null;
  }
}
