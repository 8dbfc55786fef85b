/**
 * What an alert says, decided before it is signed: the node acting for itself, the episode as the
 * owner's policy lets the recipient see it, and whether a repeat threshold was just crossed.
 */
import type { Viewer } from '@mcx/auth';
import type { TrustManifestHolder } from '@mcx/signing';

import type { AuthorisedRead } from '../../auth/access.js';
import type { Discloser } from '../disclosure/disclose.js';
import { withholdingRule } from '../disclosure/policy.js';
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

/** The episode as the owner's policy lets `member`'s investigators see it: withheld, it is a pointer with the owner's contact. */
export function episodeFor(
  member: string,
  e: EpisodeRecord,
  ctx: { forceCode: string; disclosure: Discloser; holder: TrustManifestHolder },
): AlertEpisode {
  const { disclosure, holder, forceCode } = ctx;
  const orgKind = (holder.member(member)?.kind ?? 'police') as Viewer['orgKind'];
  const rule = withholdingRule(
    disclosure.policy,
    { force: member, orgKind, roles: ['investigator'], purpose: PURPOSE },
    { kind: 'episode', owner: forceCode, grading: e.grading },
  );
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
