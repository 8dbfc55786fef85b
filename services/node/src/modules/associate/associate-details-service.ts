/**
 * requestAssociateDetails: an associate's name, from the owner's records system. Police only,
 * handling P, never grade E, with purpose and case reference. Refusals and releases are each
 * audited as a disclosure; the name is released only after its entry has committed, and is
 * never stored or logged.
 */
import { McxError } from '@mcx/errors';

import type { AuthorisedRead } from '../../auth/access.js';
import { GraphQLErrorCode, NodeErrorCode } from '../../errors.js';
import type { AuditService } from '../audit/audit-service.js';
import { auditDisclosure } from '../audit/read-audit.js';
import type { AssociateDetailsSource, AssociateName } from '../disclosure/associate-details.js';
import type { Discloser } from '../disclosure/disclose.js';
import { associateDetailsRefusal, withholdingRule } from '../disclosure/policy.js';
import { notDisclosable } from '../disclosure/shape-by-policy.js';
import type { RecordService } from '../records/record-service.js';
import type { AssociateModel, AssociateRecord } from './associate-model.js';

const OPERATION = 'requestAssociateDetails';

export interface AssociateDetailsServiceDeps {
  forceCode: string;
  records: RecordService;
  disclosure: Discloser;
  audit: AuditService;
  /** The force's records system; null when this node is not connected to it. */
  source: AssociateDetailsSource | null;
}

/** Why a name was not released (already audited): the GraphQL code, the audited reason and a fixed message. */
export interface DetailsRefusal {
  code: typeof GraphQLErrorCode.FORBIDDEN | typeof GraphQLErrorCode.NOT_FOUND | typeof GraphQLErrorCode.SERVICE_UNAVAILABLE;
  reason: string;
  message: string;
  outcome: 'refused' | 'error';
}

export type DetailsAnswer = { owner: string; id: string; name: AssociateName } | { refusal: DetailsRefusal };

const refusal = (code: DetailsRefusal['code'], reason: string, message: string, outcome: DetailsRefusal['outcome'] = 'refused') => ({
  code,
  reason,
  message,
  outcome,
});

export class AssociateDetailsService {
  constructor(private readonly deps: AssociateDetailsServiceDeps) {}

  /** The associate's name for this reader, or the refusal; either is audited before it is returned. */
  async request(read: AuthorisedRead, owner: string, id: string): Promise<DetailsAnswer> {
    const key = `${owner}/${id}`;
    const outcome = (await this.remoteRefusal(owner)) ?? (await this.holdingRefusal(read, owner, id));
    if ('code' in outcome) {
      await auditDisclosure(this.deps.audit, read, OPERATION, key, outcome.outcome, outcome.reason);
      return { refusal: outcome };
    }
    await auditDisclosure(this.deps.audit, read, OPERATION, key, 'success', NodeErrorCode.ASSOCIATE_NAME_RELEASED);
    return { owner, id, name: outcome.name };
  }

  /** A name never travels between nodes: another force's associate is asked of that force directly. */
  private async remoteRefusal(owner: string): Promise<DetailsRefusal | null> {
    if (owner === this.deps.forceCode) return null;
    const contact = this.deps.disclosure.contactOf(owner);
    const message = `Names are released only by the owner's own node, never between nodes: ask ${owner}${contact ? ` (24/7 ${contact})` : ''}`;
    return refusal(GraphQLErrorCode.NOT_FOUND, NodeErrorCode.DETAILS_OWNER_REMOTE, message);
  }

  /** The record, the owner's policy and the records system, in that order: the first refusal, or the name. */
  private async holdingRefusal(read: AuthorisedRead, owner: string, id: string): Promise<DetailsRefusal | { name: AssociateName }> {
    const { record, withheld } = await this.deps.records.read<AssociateRecord>('associate', owner, id);
    if (!record)
      return refusal(GraphQLErrorCode.NOT_FOUND, withheld ?? NodeErrorCode.NOT_FOUND, 'No readable associate with this id is held here');
    const policyRefusal = this.policyRefusal(read, owner, record);
    if (policyRefusal)
      return refusal(
        GraphQLErrorCode.FORBIDDEN,
        policyRefusal,
        "The owner's disclosure policy does not release this associate's name to this requester",
      );
    return this.fetchName(id, record);
  }

  private policyRefusal(read: AuthorisedRead, owner: string, record: AssociateModel): string | null {
    const { policy } = this.deps.disclosure;
    const rule = withholdingRule(policy, read.requester, { kind: 'associate', owner, grading: record.record.grading });
    return rule ? notDisclosable(rule) : associateDetailsRefusal(policy, read.requester, record.record.grading);
  }

  private async fetchName(id: string, record: AssociateModel): Promise<DetailsRefusal | { name: AssociateName }> {
    const { source } = this.deps;
    if (!source)
      return refusal(
        GraphQLErrorCode.SERVICE_UNAVAILABLE,
        NodeErrorCode.DETAILS_SOURCE_NOT_CONFIGURED,
        "This node is not connected to its force's records system for associate details",
        'error',
      );
    try {
      return { name: await source.fetch({ associateId: id, ownerReference: record.record.ownerReference }) };
    } catch (err) {
      const reason = err instanceof McxError ? err.code : NodeErrorCode.DETAILS_SOURCE_UNAVAILABLE;
      const code = reason === NodeErrorCode.DETAILS_NOT_HELD ? GraphQLErrorCode.NOT_FOUND : GraphQLErrorCode.SERVICE_UNAVAILABLE;
      return refusal(code, reason, err instanceof McxError ? err.message : "The force's records system did not answer", 'error');
    }
  }
}
