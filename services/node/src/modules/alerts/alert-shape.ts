/**
 * What an alert says, decided before it is signed: the node acting for itself, the episode as the
 * owner's policy lets the recipient see it, and whether a repeat threshold was just crossed.
 */
import type { Viewer } from '@mcx/auth';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import type { Discloser } from '../disclosure/disclose.js';
import { admissionRefusal, withholdingRule, type Requester } from '../disclosure/policy.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { AlertEpisode } from './alert-model.js';

const PURPOSE = 'MISSING_LIVE_SEARCH' as const;

/** The node itself, acting for an alert about an episode: its own organisation, never a person's. */
export function nodeRead(forceCode: string, holder: TrustManifestHolder, episodeId: string): AuthorisedRead {
  const orgKind = (holder.member(forceCode)?.kind ?? 'police') as Viewer['orgKind'];
  const viewer: Viewer = {
    subject: `node:${forceCode}`,
    issuer: `mcx-node:${forceCode}`,
    force: forceCode,
    orgKind,
    roles: ['investigator'],
    tokenKind: 'user',
  };
  return {
    viewer,
    requestingNode: null,
    requester: { force: forceCode, orgKind, roles: viewer.roles, purpose: PURPOSE },
    purpose: PURPOSE,
    caseRef: `ALERT/${episodeId}`,
  };
}

/**
 * `member`'s investigators as this node's policy sees them for an alert: their organisation kind
 * from the manifest (null for a code that is not a member), the alert's purpose.
 */
function recipient(member: string, holder: TrustManifestHolder): Requester | null {
  const kind = holder.member(member)?.kind;
  if (!kind) return null;
  return { force: member, orgKind: kind as Viewer['orgKind'], roles: ['investigator'], purpose: PURPOSE };
}

/**
 * Whether the owner's policy admits `member` for the alert's purpose (its readers rule: the
 * organisation kind, the role and the purpose). A member not admitted is neither asked who holds
 * the child nor sent an alert.
 */
export function admitted(member: string, ctx: { disclosure: Discloser; holder: TrustManifestHolder }): boolean {
  const r = recipient(member, ctx.holder);
  return r !== null && admissionRefusal(ctx.disclosure.policy, r) === null;
}

/** The episode as the owner's policy lets `member`'s investigators see it: withheld, it is a pointer with the owner's contact. */
export function episodeFor(
  member: string,
  e: EpisodeRecord,
  ctx: { forceCode: string; disclosure: Discloser; holder: TrustManifestHolder },
): AlertEpisode {
  const { disclosure, holder, forceCode } = ctx;
  const r = recipient(member, holder);
  const rule =
    !r || (member !== forceCode && admissionRefusal(disclosure.policy, r) !== null)
      ? 'NOT_ADMITTED'
      : withholdingRule(disclosure.policy, r, { kind: 'episode', owner: forceCode, grading: e.grading });
  const contact24x7 = disclosure.contactOf(forceCode);
  if (rule) return { owner: forceCode, id: e.id, ownerReference: null, contact24x7, riskGrade: null, reportedAt: null };
  return {
    owner: forceCode,
    id: e.id,
    ownerReference: e.ownerReference,
    contact24x7,
    riskGrade: e.assessment.riskGrade,
    reportedAt: e.facts.reportedAt,
  };
}

/**
 * Whether this episode made the child's count within the window reach the threshold: the count
 * with it is the threshold exactly (the count before it was below), so a fourth episode after a
 * third does not alert again; a later crossing, after older episodes leave the window, does.
 */
export function thresholdCrossed(episodesInWindow: number, threshold: { count: number }): boolean {
  return episodesInWindow === threshold.count;
}

/** Episodes reported within `days` before `now`. */
export function reportedWithin(episodes: readonly { record: EpisodeRecord }[], days: number, now: Date): number {
  const since = now.getTime() - days * 86_400_000;
  return episodes.filter((e) => Date.parse(e.record.facts.reportedAt) >= since).length;
}
