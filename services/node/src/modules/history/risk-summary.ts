/** The risk summary over a child's strong incidents, and the rules it counts by. */
import { offeredWithin72Hours } from '../episode/episode-rules.js';
import type { HistoryRules, Incident, RiskSummary } from './history-model.js';
import { maxGrade } from './reconcile.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** True when an incident reported at `reportedAt` falls within the last `days` days before `asOf` (the boundary counts). */
export function inWindow(reportedAt: string, asOf: Date, days: number): boolean {
  const age = asOf.getTime() - Date.parse(reportedAt);
  return age >= 0 && age <= days * DAY_MS;
}

/**
 * A closed incident whose return home interview is overdue: 72 hours have passed since it was
 * found, and no source records an interview offered within 72 hours (exactly 72 is in time).
 */
export function returnInterviewOverdue(incident: Incident, asOf: Date): boolean {
  if (incident.status !== 'CLOSED' || !incident.foundAt) return false;
  if (asOf.getTime() - Date.parse(incident.foundAt) <= 72 * HOUR_MS) return false;
  return !incident.sources.some((s) => {
    const f = s.episode.record.facts;
    return offeredWithin72Hours(f.foundAt, f.returnInterview?.offeredAt ?? null) === true;
  });
}

/** The risk summary over strong incidents (never possible matches). */
export function riskSummary(incidents: readonly Incident[], rules: HistoryRules): RiskSummary {
  const count = (days: number) => incidents.filter((i) => inWindow(i.reportedAt, rules.asOf, days)).length;
  const inRepeat = count(rules.repeat.days);
  const latest = [...incidents].sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))[0];
  return {
    last30Days: count(30),
    last90Days: count(90),
    last365Days: count(365),
    repeatThreshold: { count: rules.repeat.count, days: rules.repeat.days, incidents: inRepeat, crossed: inRepeat >= rules.repeat.count },
    highestGrade: incidents.length ? maxGrade(incidents.map((i) => i.riskGrade)) : null,
    latestGrade: latest?.riskGrade ?? null,
    indicators: [...new Set(incidents.flatMap((i) => i.indicators))].sort(),
    forcesInvolved: [...new Set(incidents.flatMap((i) => i.owners))].sort(),
    outOfAreaIncidents: incidents.filter((i) => i.outOfArea).length,
    overdueReturnInterviews: incidents.filter((i) => returnInterviewOverdue(i, rules.asOf)).length,
  };
}
