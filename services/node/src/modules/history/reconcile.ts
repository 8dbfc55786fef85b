/**
 * Incidents from a child's episodes: overlapping episodes are one incident with several sources.
 * Pure functions of their inputs and `asOf`.
 */
import type { McxRiskGrade } from '../../__generated__/resolvers-types.js';
import type { EpisodeRecord } from '../episode/episode-model.js';
import type { FederatedEpisodeModel, HistoryRules, Incident } from './history-model.js';

const GRADE_ORDER: McxRiskGrade[] = ['ABSENT', 'VERY_LOW', 'LOW', 'MEDIUM', 'HIGH'];

/** True when the owner asked to be consulted before anyone acts on this episode. */
export function confirmWithOwner(e: EpisodeRecord): boolean {
  return e.grading?.conditions.includes('CONFIRM_WITH_OWNER') ?? false;
}

/** The highest of some risk grades (ABSENT when there are none). */
export function maxGrade(grades: McxRiskGrade[]): McxRiskGrade {
  return grades.reduce((a, b) => (GRADE_ORDER.indexOf(b) > GRADE_ORDER.indexOf(a) ? b : a), 'ABSENT');
}

/** The missing period of an episode: from last seen to found, or to `asOf` while open. */
function period(e: EpisodeRecord, asOf: Date): [number, number] {
  const start = Date.parse(e.facts.lastSeenAt);
  const end = e.facts.status === 'OPEN' || !e.facts.foundAt ? asOf.getTime() : Date.parse(e.facts.foundAt);
  return [start, Math.max(start, end)];
}

/**
 * Reconciles episodes into incidents: episodes whose missing periods overlap (touching counts)
 * are one incident. Overlap is taken transitively within one child's strong matches, which is
 * safe because every episode here matched the same identity directly. Newest first.
 */
export function reconcile(episodes: readonly FederatedEpisodeModel[], rules: HistoryRules): Incident[] {
  const sorted = [...episodes].sort((a, b) => period(a.episode.record, rules.asOf)[0] - period(b.episode.record, rules.asOf)[0]);
  const groups: { sources: FederatedEpisodeModel[]; end: number }[] = [];
  for (const e of sorted) {
    const [start, end] = period(e.episode.record, rules.asOf);
    const last = groups[groups.length - 1];
    if (last && start <= last.end) {
      last.sources.push(e);
      last.end = Math.max(last.end, end);
    } else groups.push({ sources: [e], end });
  }
  return groups.map((g) => toIncident(g.sources, rules)).sort((a, b) => b.reportedAt.localeCompare(a.reportedAt));
}

function toIncident(sources: FederatedEpisodeModel[], rules: HistoryRules): Incident {
  const recs = sources.map((s) => s.episode.record);
  const open = recs.some((r) => r.facts.status === 'OPEN');
  const foundTimes = recs.map((r) => r.facts.foundAt).filter((f): f is string => !!f);
  const placing = recs.map((r) => r.facts.placingAuthority).find((p): p is string => !!p) ?? null;
  const placingArea = placing ? rules.policeAreaOf(placing) : null;
  return {
    sources: [...sources].sort((a, b) => a.episode.record.facts.reportedAt.localeCompare(b.episode.record.facts.reportedAt)),
    status: open ? 'OPEN' : 'CLOSED',
    reportedAt: recs.map((r) => r.facts.reportedAt).sort()[0]!,
    lastSeenAt: recs.map((r) => r.facts.lastSeenAt).sort()[0]!,
    foundAt: open || foundTimes.length === 0 ? null : foundTimes.sort()[foundTimes.length - 1]!,
    riskGrade: maxGrade(recs.map((r) => r.assessment.riskGrade)),
    indicators: [...new Set(recs.flatMap((r) => r.assessment.indicators))].sort(),
    owners: [...new Set(recs.map((r) => r.owner))].sort(),
    confirmWithOwnerBeforeActing: recs.some(confirmWithOwner),
    // Out of area: recorded by a force (or authority) outside the placing authority's police area.
    outOfArea: placingArea !== null && recs.some((r) => (rules.policeAreaOf(r.owner) ?? r.owner) !== placingArea),
  };
}
