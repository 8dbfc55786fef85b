import { useState, type FormEvent } from 'react';

import type { Api } from '../api';
import { ConsoleAuditEntriesDocument, ConsoleFishingDocument, type ConsoleFishingQuery } from '../operations';
import { forceName } from '../words';
import { EntryTable } from './EntryTable';
import { dayInput, Loading, Refusal, useLoad, windowOf } from './load';

type Alert = ConsoleFishingQuery['auditAlerts'][number];
const KINDS: Record<string, string> = {
  unusual_volume: 'Unusual volume of reads',
  unusual_hours: 'Reads out of hours (before 07:00 or from 19:00, UK time)',
  case_ref_missing: 'Reads with no case reference',
  case_ref_malformed: 'Reads with a malformed case reference',
};
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Reads by hour and weekday, UK time: a table whose cells are shaded by count, the count written in each. */
function Heatmap({ cells }: { cells: ConsoleFishingQuery['auditReadsByHour'] }) {
  const at = new Map(cells.map((c) => [`${c.weekday}:${c.hour}`, c.count]));
  const max = Math.max(1, ...cells.map((c) => c.count));
  return (
    <table className="govuk-table mcx-heatmap">
      <caption className="govuk-table__caption govuk-table__caption--m">
        Reads by hour and weekday (UK time); out-of-hours columns are marked
      </caption>
      <thead className="govuk-table__head">
        <tr className="govuk-table__row">
          <th scope="col" className="govuk-table__header">
            Day
          </th>
          {Array.from({ length: 24 }, (_, h) => (
            <th scope="col" key={h} className={`govuk-table__header mcx-heatmap__hour${h < 7 || h >= 19 ? ' mcx-heatmap__out' : ''}`}>
              {String(h).padStart(2, '0')}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="govuk-table__body">
        {[1, 2, 3, 4, 5, 6, 0].map((d) => (
          <tr className="govuk-table__row" key={d}>
            <th scope="row" className="govuk-table__header">
              {WEEKDAYS[d]!.slice(0, 3)}
              <span className="govuk-visually-hidden">{WEEKDAYS[d]!.slice(3)}</span>
            </th>
            {Array.from({ length: 24 }, (_, h) => {
              const n = at.get(`${d}:${h}`) ?? 0;
              const level = n === 0 ? 0 : Math.min(4, 1 + Math.floor((n / max) * 3.99));
              return (
                <td key={h} className={`govuk-table__cell mcx-heatmap__cell mcx-heatmap__cell--${level}`} data-weekday={d} data-hour={h}>
                  {n || ''}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The entries behind one alert: the actor's reads in the window, its flagged ones marked. */
function DrillDown({ api, alert, range }: { api: Api; alert: Alert; range: { from: string; to: string } }) {
  const w = windowOf(range.from, range.to);
  const entries = useLoad(
    () =>
      api.query(ConsoleAuditEntriesDocument, {
        // The alert's own actor: the same subject at another force, or stated by another member, is someone else.
        filter: {
          actorSubject: alert.actorSubject,
          actorForce: alert.actorForce,
          ...(alert.actorRequestingNode ? { requestingNode: alert.actorRequestingNode } : {}),
          from: w.from,
          to: w.to,
        },
        first: 200,
      }),
    [api, alert, range],
  );
  const flagged = new Set(alert.sampleSeqs);
  const rows = (entries.data?.auditEntries.entries ?? []).filter((e) => flagged.has(e.seq));
  return (
    <section aria-labelledby="drill-title" className="mcx-drill">
      <h2 className="govuk-heading-m" id="drill-title">
        {KINDS[alert.kind] ?? alert.kind}: {alert.actorSubject}
      </h2>
      <Loading loading={entries.loading} />
      {entries.data && <EntryTable caption={`The flagged entries (${rows.length} shown of ${alert.count})`} entries={rows} />}
    </section>
  );
}

export function Fishing({ api, role }: { api: Api; role: string | null }) {
  const [form, setForm] = useState({ from: dayInput(-6), to: dayInput(1), threshold: '50' });
  const [range, setRange] = useState(form);
  const [open, setOpen] = useState<Alert | null>(null);
  const data = useLoad(
    () => api.query(ConsoleFishingDocument, { ...windowOf(range.from, range.to), threshold: Number(range.threshold) || 50 }),
    [api, range],
  );
  const alerts = data.data?.auditAlerts ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setRange(form);
    setOpen(null);
  };
  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Fishing alerts
      </h1>
      <p className="govuk-body">
        Patterns that look like fishing in reads here and in other forces' reads of this force's records: unusual volume per actor, reads
        out of hours, and missing or malformed case references.
      </p>
      <form onSubmit={submit} noValidate className="mcx-filters" aria-label="Time window">
        {(
          [
            ['from', 'From (date)', 'date'],
            ['to', 'To (date)', 'date'],
            ['threshold', 'Unusual volume: more reads than', 'number'],
          ] as const
        ).map(([k, label, type]) => (
          <div className="govuk-form-group mcx-filter" key={k}>
            <label className="govuk-label" htmlFor={`a-${k}`}>
              {label}
            </label>
            <input
              className="govuk-input"
              id={`a-${k}`}
              type={type}
              value={form[k]}
              onChange={(e) => setForm({ ...form, [k]: e.target.value })}
            />
          </div>
        ))}
        <button type="submit" className="govuk-button mcx-filter-button">
          Show
        </button>
      </form>
      <Refusal error={data.error} role={role} />
      <Loading loading={data.loading} />
      {data.data && (
        <>
          <table className="govuk-table mcx-alerts">
            <caption className="govuk-table__caption govuk-table__caption--m">
              {alerts.length === 0 ? 'No alert in this window' : `${alerts.length} alerts`}
            </caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                {['Alert', 'Actor', 'Force', 'Reads', 'Entries'].map((h) => (
                  <th scope="col" className="govuk-table__header" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {alerts.map((a) => (
                <tr
                  className="govuk-table__row"
                  key={`${a.kind}-${a.actorSubject}-${a.actorIssuer ?? ''}-${a.actorForce}-${a.actorRequestingNode ?? ''}`}
                >
                  <td className="govuk-table__cell">{KINDS[a.kind] ?? a.kind}</td>
                  <td className="govuk-table__cell">
                    {a.actorSubject}
                    {a.actorIssuer && (
                      <>
                        <br />
                        <span className="mcx-small mcx-break">at {a.actorIssuer}</span>
                      </>
                    )}
                  </td>
                  <td className="govuk-table__cell">
                    {forceName(a.actorForce)}
                    {a.actorRequestingNode && (
                      <>
                        <br />
                        <span className="mcx-small">as stated by the {forceName(a.actorRequestingNode)} node</span>
                      </>
                    )}
                  </td>
                  <td className="govuk-table__cell govuk-table__cell--numeric">{a.count}</td>
                  <td className="govuk-table__cell">
                    <button type="button" className="mcx-link-button" onClick={() => setOpen(a)}>
                      Show entries
                      <span className="govuk-visually-hidden">
                        {' '}
                        for {KINDS[a.kind] ?? a.kind}, {a.actorSubject}
                      </span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {open && <DrillDown api={api} alert={open} range={range} />}
          <Heatmap cells={data.data.auditReadsByHour} />
        </>
      )}
    </>
  );
}
