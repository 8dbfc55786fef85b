/**
 * What an alert says, decided before it is signed: the node acting for itself, the episode as the
 * owner's policy lets the recipient see it, and the repeat threshold's totals as it may count them.
 */
import type { Viewer } from '@mcx/auth';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import type { Discloser } from '../disclosure/disclose.js';
import { admissionRefusal, withholdingRule, type Requester } from '../disclosure/policy.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { AlertEpisode, AlertThreshold } from './alert-model.js';

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
 * The threshold alert's totals as `member` may see them: the owner's own episodes in the window
 * that its policy lets the member's kind read, and what the other holders counted; null where the
 * policy does not let that kind read episodes at all. This node sees its own total whole.
 */
export function thresholdFor(
  member: string,
  base: { count: number; days: number },
  ownInWindow: readonly { record: EpisodeRecord }[],
  elsewhere: number,
  ctx: { forceCode: string; disclosure: Discloser; holder: TrustManifestHolder },
): AlertThreshold {
  const { disclosure, holder, forceCode } = ctx;
  if (member === forceCode) return { ...base, episodes: ownInWindow.length + elsewhere };
  const r = recipient(member, holder);
  const episodeRule = (grading: EpisodeRecord['grading'] | null) =>
    r ? withholdingRule(disclosure.policy, r, { kind: 'episode', owner: forceCode, grading }) : 'KIND_NOT_PERMITTED';
  if (episodeRule(null) !== null) return { ...base, episodes: null };
  return { ...base, episodes: ownInWindow.filter((e) => episodeRule(e.record.grading) === null).length + elsewhere };
}

/** Episodes reported within `days` before `now`. */
export function reportedWithin(episodes: readonly { record: EpisodeRecord }[], days: number, now: Date): number {
  return inWindow(episodes, days, now).length;
}

/** The episodes reported within `days` before `now`. */
export function inWindow<E extends { record: EpisodeRecord }>(episodes: readonly E[], days: number, now: Date): E[] {
  const since = now.getTime() - days * 86_400_000;
  return episodes.filter((e) => Date.parse(e.record.facts.reportedAt) >= since);
}
