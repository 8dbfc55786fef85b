import { useState, type FormEvent } from 'react';

import type { Api } from '../api';
import { ConsoleDisclosureCountsDocument, type ConsoleDisclosureCountsQuery } from '../operations';
import { forceName, PURPOSE_WORDS } from '../words';
import { dayInput, Loading, Refusal, useLoad, windowOf } from './load';

type Count = ConsoleDisclosureCountsQuery['auditDisclosureCounts'][number];
const COLOURS = ['#1d70b8', '#f47738', '#00703c', '#912b88', '#d4351c', '#505a5f', '#28a197'];

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`) && out.length < 400; d.setUTCDate(d.getUTCDate() + 1))
    out.push(d.toISOString().slice(0, 10));
  return out;
}

/** Disclosures per day, stacked by requesting force: drawn here, in SVG, from the same rows as the table below it. */
function Chart({ counts, from, to }: { counts: Count[]; from: string; to: string }) {
  const all = days(from, to);
  const forces = [...new Set(counts.map((c) => c.force))].sort();
  const perDay = new Map<string, Map<string, number>>();
  for (const c of counts) {
    const day = perDay.get(c.day) ?? new Map<string, number>();
    day.set(c.force, (day.get(c.force) ?? 0) + c.count);
    perDay.set(c.day, day);
  }
  const max = Math.max(1, ...[...perDay.values()].map((m) => [...m.values()].reduce((a, b) => a + b, 0)));
  const W = 900;
  const H = 240;
  const left = 40;
  const bar = (W - left) / Math.max(1, all.length);
  const y = (v: number) => H - 30 - (v / max) * (H - 50);
  return (
    <figure className="mcx-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title chart-desc" className="mcx-chart__svg">
        <title id="chart-title">Disclosures per day, stacked by requesting force</title>
        <desc id="chart-desc">
          {`From ${from} to ${to}: ${counts.reduce((a, c) => a + c.count, 0)} disclosures in all. The table below gives the same figures.`}
        </desc>
        <line x1={left} x2={W} y1={y(0)} y2={y(0)} stroke="#0b0c0c" />
        <text x={left - 6} y={y(max) + 4} textAnchor="end" fontSize="12">
          {max}
        </text>
        <text x={left - 6} y={y(0) + 4} textAnchor="end" fontSize="12">
          0
        </text>
        {all.map((day, i) => {
          let base = 0;
          return (
            <g key={day}>
              {forces.map((f, j) => {
                const n = perDay.get(day)?.get(f) ?? 0;
                if (n === 0) return null;
                const rect = (
                  <rect
                    key={f}
                    x={left + i * bar + 1}
                    width={Math.max(1, bar - 2)}
                    y={y(base + n)}
                    height={y(base) - y(base + n)}
                    fill={COLOURS[j % COLOURS.length]}
                    data-force={f}
                    data-day={day}
                  >
                    <title>{`${day}: ${n} by ${forceName(f)}`}</title>
                  </rect>
                );
                base += n;
                return rect;
              })}
              {
                // Every seventh day and the last, leaving out a weekly label that would run into the last one.
                (i === all.length - 1 || (i % 7 === 0 && all.length - 1 - i >= 4)) && (
                  <text
                    x={i === all.length - 1 ? left + (i + 1) * bar : left + i * bar + bar / 2}
                    y={H - 10}
                    textAnchor={i === all.length - 1 ? 'end' : 'middle'}
                    fontSize="12"
                  >
                    {day.slice(5)}
                  </text>
                )
              }
            </g>
          );
        })}
      </svg>
      <figcaption className="mcx-chart__legend">
        {forces.map((f, j) => (
          <span key={f} className="mcx-chart__key">
            <span className="mcx-chart__swatch" style={{ background: COLOURS[j % COLOURS.length] }} aria-hidden="true" /> {forceName(f)} (
            {f})
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function Disclosures({ api, role }: { api: Api; role: string | null }) {
  const [form, setForm] = useState({ from: dayInput(-29), to: dayInput(0) });
  const [range, setRange] = useState(form);
  const counts = useLoad(() => api.query(ConsoleDisclosureCountsDocument, windowOf(range.from, range.to)), [api, range]);
  const rows = counts.data?.auditDisclosureCounts ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setRange(form);
  };
  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Disclosures of our records
      </h1>
      <p className="govuk-body">
        Reads of this force's records by other forces, by requesting force and organisation, by purpose, over time.
      </p>
      <form onSubmit={submit} noValidate className="mcx-filters" aria-label="Time window">
        {(['from', 'to'] as const).map((k) => (
          <div className="govuk-form-group mcx-filter" key={k}>
            <label className="govuk-label" htmlFor={`d-${k}`}>
              {k === 'from' ? 'From (date)' : 'To (date)'}
            </label>
            <input
              className="govuk-input"
              id={`d-${k}`}
              type="date"
              value={form[k]}
              onChange={(e) => setForm({ ...form, [k]: e.target.value })}
            />
          </div>
        ))}
        <button type="submit" className="govuk-button mcx-filter-button">
          Show
        </button>
      </form>
      <Refusal error={counts.error} role={role} />
      <Loading loading={counts.loading} />
      {counts.data && (
        <>
          <Chart counts={rows} from={range.from} to={range.to} />
          <table className="govuk-table mcx-disclosures">
            <caption className="govuk-table__caption govuk-table__caption--m">The figures behind the chart</caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                {['Day (UTC)', 'Requesting force', 'Organisation', 'Purpose', 'Disclosures'].map((h) => (
                  <th scope="col" className="govuk-table__header" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {rows.map((c) => (
                <tr className="govuk-table__row" key={`${c.day}-${c.force}-${c.orgKind}-${c.purpose}`}>
                  <td className="govuk-table__cell">{c.day}</td>
                  <td className="govuk-table__cell">
                    {forceName(c.force)} ({c.force})
                  </td>
                  <td className="govuk-table__cell">{c.orgKind}</td>
                  <td className="govuk-table__cell">{c.purpose ? (PURPOSE_WORDS[c.purpose] ?? c.purpose) : 'None given'}</td>
                  <td className="govuk-table__cell govuk-table__cell--numeric">{c.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p className="govuk-body">No other force read this force's records in this window.</p>}
        </>
      )}
    </>
  );
}
