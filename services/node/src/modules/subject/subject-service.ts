import { createHmac } from 'node:crypto';

import { McxError } from '@mcx/errors';
import {
  deriveLinkageKeys,
  IdentityErrorCode,
  matchKeys,
  validateIdentity,
  type AssociateIdentity,
  type DerivedLinkageKey,
  type KeyKind,
  type KeyStrength,
  type LinkageEvaluator,
} from '@mcx/linkage';

import type { McxAssociateIdentityInput, McxSex } from '../../__generated__/resolvers-types.js';
import { NodeErrorCode } from '../../errors.js';
import type { InTx } from '../records/record-store-model.js';
import { InputChecker, type FieldError } from '../records/validation.js';
import type { HolderKind, SubjectStore } from './subject-store.js';

const SEX: Record<McxSex, 'F' | 'M' | 'X' | 'U'> = { FEMALE: 'F', MALE: 'M', OTHER: 'X', UNKNOWN: 'U' };

export interface SubjectMatch {
  owner: string;
  subjectRef: string;
  strength: 'STRONG' | 'POSSIBLE';
  matchedKinds: string[];
  conflicts: string[];
}

export interface SubjectServiceDeps {
  store: SubjectStore;
  /** The federation's linkage service; null: identity cannot be accepted on this node. */
  evaluator: LinkageEvaluator | null;
  /** During an OPRF key changeover: the previous key version, queried as well until re-keying is done. */
  previousEvaluator?: LinkageEvaluator | null;
  forceCode: string;
  /** Keys the digest of linkage keys that the audit log holds instead of the keys. */
  digestKey: Buffer;
  now?: () => Date;
}

/** GraphQL identity input to the linkage library's shape; absent fields stay absent. */
export function toIdentity(input: McxAssociateIdentityInput): AssociateIdentity {
  const out: AssociateIdentity = {};
  for (const f of ['forename', 'surname', 'dob', 'nhsNumber', 'chiNumber', 'pncId', 'phone', 'vehicleReg'] as const) {
    const v = input[f];
    if (v != null && v !== '') out[f] = v;
  }
  if (input.sex) out.sex = SEX[input.sex];
  return out;
}

/** Identity problems as field errors under `identity.` (messages never echo values). */
export function identityErrors(identity: AssociateIdentity, now: Date, prefix = 'identity'): FieldError[] {
  const result = validateIdentity(identity, { now });
  if (result.ok) return [];
  return result.issues.map((i) => ({
    field: i.field ? `${prefix}.${i.field}` : prefix,
    code: i.code === IdentityErrorCode.IDENTITY_EMPTY ? 'REQUIRED' : 'INVALID_FORMAT',
    message: i.message,
  }));
}

/**
 * Subjects' and associates' identity, turned into linkage keys through the linkage service,
 * and matching. Identity attributes live only in memory for the length of one request.
 */
export class SubjectService {
  private readonly now: () => Date;

  constructor(private readonly deps: SubjectServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private evaluator(): LinkageEvaluator {
    if (!this.deps.evaluator)
      throw new McxError(NodeErrorCode.LINKAGE_NOT_CONFIGURED, 'this node has no linkage service (MCX_LINKAGE_URL)');
    return this.deps.evaluator;
  }

  /** Derives a holder's record keys (one batched linkage call). */
  deriveRecordKeys(identity: AssociateIdentity): Promise<DerivedLinkageKey[]> {
    return deriveLinkageKeys(identity, this.evaluator(), { role: 'record', now: this.now() });
  }

  /** A keyed digest of linkage keys: what the audit log holds instead of the keys. */
  digest(keys: readonly { key: string }[]): string {
    const h = createHmac('sha256', this.deps.digestKey);
    for (const k of [...keys].map((x) => x.key).sort()) h.update(`${k}\n`);
    return `hmac-sha256:${h.digest('base64url')}`;
  }

  /** Publishes (or replaces) a subject's keys; the audit entry commits with them. */
  async publish(input: { subjectRef?: string | null; identity?: McxAssociateIdentityInput | null; reviewAt?: string | null }, audit: InTx) {
    const now = this.now();
    const c = new InputChecker();
    const subjectRef = c.reference('subjectRef', input.subjectRef, { required: true, max: 64 });
    const reviewAt = c.date('reviewAt', input.reviewAt, { required: true });
    if (reviewAt && reviewAt < now.toISOString().slice(0, 10)) c.fail('reviewAt', 'OUT_OF_RANGE', 'reviewAt is in the past');
    if (!input.identity) c.fail('identity', 'REQUIRED', 'identity is required');
    const identity = input.identity ? toIdentity(input.identity) : {};
    const errors = [...c.errors, ...(input.identity ? identityErrors(identity, now) : [])];
    if (errors.length > 0 || !subjectRef || !reviewAt) return { subject: null, errors };
    const keys = await this.deriveRecordKeys(identity);
    await this.deps.store.publishSubject(this.deps.forceCode, subjectRef, reviewAt, keys, now, audit);
    return {
      subject: {
        owner: this.deps.forceCode,
        subjectRef,
        reviewAt,
        keyKinds: [...new Set(keys.map((k) => k.kind))].sort(),
        keyVersion: keys[0]?.keyVersion ?? '',
      },
      errors: [] as FieldError[],
    };
  }

  /** Stores an associate's keys inside the associate's own publish transaction. */
  associateKeysWriter(associateId: string, keys: readonly DerivedLinkageKey[]): InTx {
    return (tx) => this.deps.store.replaceKeys(tx, this.deps.forceCode, 'associate', associateId, keys, this.now());
  }

  /**
   * The query keys for an identity (both key versions during a changeover), or the identity's
   * problems. The keys are personal data: they go only to member nodes for matching.
   */
  async queryKeys(identityInput: McxAssociateIdentityInput): Promise<{ keys: DerivedLinkageKey[] } | { errors: FieldError[] }> {
    const identity = toIdentity(identityInput);
    const errors = identityErrors(identity, this.now());
    if (errors.length > 0) return { errors };
    const query = await deriveLinkageKeys(identity, this.evaluator(), { role: 'query', now: this.now() });
    // Subjects not yet re-keyed still hold keys of the previous version: ask under both.
    if (this.deps.previousEvaluator)
      query.push(...(await deriveLinkageKeys(identity, this.deps.previousEvaluator, { role: 'query', now: this.now() })));
    return { keys: query };
  }

  /**
   * Holders whose keys match an identity: strong first. Matching is always query against one
   * holder, never chained. Returns the matches and the digest of the query's keys.
   */
  async match(
    identityInput: McxAssociateIdentityInput,
    holderKind: HolderKind = 'subject',
  ): Promise<{ matches: SubjectMatch[]; digest: string } | { errors: FieldError[] }> {
    const derived = await this.queryKeys(identityInput);
    if ('errors' in derived) return derived;
    return { matches: await this.matchQuery(derived.keys, holderKind), digest: this.digest(derived.keys) };
  }

  /** The holders here whose keys match already-derived query keys (a peer's request). */
  async matchQuery(
    query: readonly Pick<DerivedLinkageKey, 'kind' | 'strength' | 'keyVersion' | 'key' | 'variant'>[],
    holderKind: HolderKind = 'subject',
  ): Promise<SubjectMatch[]> {
    const held = await this.deps.store.candidates(holderKind, query);
    const byHolder = new Map<string, typeof held>();
    for (const k of held) byHolder.set(`${k.owner}\u0000${k.holder}`, [...(byHolder.get(`${k.owner}\u0000${k.holder}`) ?? []), k]);
    const matches: SubjectMatch[] = [];
    for (const [id, keys] of byHolder) {
      const [owner, holder] = id.split('\u0000') as [string, string];
      const result = matchKeys(
        query.map((q) => ({ kind: q.kind, strength: q.strength, key: `${q.keyVersion}:${q.key}`, variant: q.variant })),
        keys.map((k) => ({ kind: k.keyKind as KeyKind, strength: k.strength as KeyStrength, key: `${k.keyVersion}:${k.key}` })),
      );
      if (result.strength === 'none') continue;
      matches.push({
        owner,
        subjectRef: holder,
        strength: result.strength === 'strong' ? 'STRONG' : 'POSSIBLE',
        matchedKinds: result.kinds,
        conflicts: result.conflicts,
      });
    }
    matches.sort((a, b) => (a.strength === b.strength ? a.subjectRef.localeCompare(b.subjectRef) : a.strength === 'STRONG' ? -1 : 1));
    return matches;
  }

  /** An associate's linkage keys as held here: they go only to member nodes, to count links. */
  associateKeys(associateId: string) {
    return this.deps.store.heldKeys(this.deps.forceCode, 'associate', associateId);
  }

  /** Inside a retraction's transaction: the associate's linkage keys go with it (a tombstone holds none). */
  associateKeysEraser(associateId: string): InTx {
    return (tx) => this.deps.store.deleteKeys(tx, this.deps.forceCode, 'associate', associateId);
  }
}
