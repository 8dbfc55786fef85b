import { forceName, GRADE_WORDS, memberProblem, when, words } from '../words';
import type { ChildHistory } from './child-history';

/** A 24/7 contact as a link a phone on the desk can dial. */
export function Tel({ number }: { number: string | null | undefined }) {
  if (!number) return <>no 24/7 contact published</>;
  return (
    <a href={`tel:${number.replace(/[^+\d]/g, '')}`} className="govuk-link">
      {number}
    </a>
  );
}

export function MissingNow({ history }: { history: ChildHistory }) {
  return (
    <section aria-labelledby="missing-now" className="mcx-section">
      <h2 className="govuk-heading-m" id="missing-now">
        Missing now
      </h2>
      {history.openNow.length === 0 && <p className="govuk-body">No force reports this child missing now.</p>}
      {history.openNow.map((incident) =>
        incident.sources
          .filter((s) => s.episode.status === 'OPEN')
          .map((s) => (
            <div
              className="govuk-notification-banner mcx-open"
              key={`${s.owner}/${s.episode.id}`}
              role="region"
              aria-label={`Open episode at ${forceName(s.owner)}`}
            >
              <div className="govuk-notification-banner__header">
                <h3 className="govuk-notification-banner__title">Missing now: {forceName(s.owner)}</h3>
              </div>
              <div className="govuk-notification-banner__content">
                <p className="govuk-notification-banner__heading">
                  {forceName(s.owner)} ({s.owner}) reference {s.ownerReference}. Last seen {when(incident.lastSeenAt)}.
                </p>
                <p className="govuk-body">
                  24/7 contact: <Tel number={s.contact} />
                </p>
                {(s.confirmWithOwner || incident.confirmWithOwnerBeforeActing) && (
                  <div className="govuk-warning-text">
                    <span className="govuk-warning-text__icon" aria-hidden="true">
                      !
                    </span>
                    <strong className="govuk-warning-text__text">
                      <span className="govuk-visually-hidden">Warning</span>Confirm with the owner before acting.
                    </strong>
                  </div>
                )}
              </div>
            </div>
          )),
      )}
    </section>
  );
}

export function Completeness({ history }: { history: ChildHistory }) {
  const { federation } = history;
  const missing = federation.members.filter((m) => m.status !== 'ANSWERED');
  const withheld = federation.members.filter(
    (m) =>
      m.withheld && m.withheld.restricted + m.withheld.reviewOverdue + m.withheld.notDisclosable + (m.withheld.integrityFault ?? 0) > 0,
  );
  if (federation.completeness === 'COMPLETE' && withheld.length === 0) {
    return (
      <section aria-labelledby="completeness" className="mcx-section">
        <h2 className="govuk-heading-m" id="completeness">
          Completeness
        </h2>
        <div className="govuk-inset-text mcx-complete">
          Complete: every force answered ({federation.members.length} forces), as of {when(history.asOf)}.
        </div>
      </section>
    );
  }
  return (
    <section aria-labelledby="completeness" className="mcx-section">
      <h2 className="govuk-heading-m" id="completeness">
        Completeness
      </h2>
      {federation.completeness === 'PARTIAL' ? (
        <div className="mcx-partial" role="alert">
          <p className="mcx-partial__title">PARTIAL: this history is not complete</p>
          <p className="govuk-body">Asked {when(history.asOf)}. What follows leaves out what these forces hold:</p>
          <ul className="govuk-list govuk-list--bullet">
            {missing.map((m) => (
              <li key={m.member}>
                <strong>{forceName(m.member)}</strong>: {memberProblem(m)}
              </li>
            ))}
            {federation.cuts.map((c) => (
              <li key={c}>This node left part of the search out: {words(c)}</li>
            ))}
          </ul>
        </div>
      ) : (
        <div className="govuk-inset-text mcx-complete">Complete: every force answered, as of {when(history.asOf)}.</div>
      )}
      {withheld.length > 0 && (
        <table className="govuk-table">
          <caption className="govuk-table__caption govuk-table__caption--s">Records held but withheld from you</caption>
          <thead className="govuk-table__head">
            <tr className="govuk-table__row">
              <th scope="col" className="govuk-table__header">
                Force
              </th>
              <th scope="col" className="govuk-table__header govuk-table__header--numeric">
                Accuracy disputed
              </th>
              <th scope="col" className="govuk-table__header govuk-table__header--numeric">
                Review overdue
              </th>
              <th scope="col" className="govuk-table__header govuk-table__header--numeric">
                Not disclosable to you
              </th>
            </tr>
          </thead>
          <tbody className="govuk-table__body">
            {withheld.map((m) => (
              <tr className="govuk-table__row" key={m.member}>
                <th scope="row" className="govuk-table__header">
                  {forceName(m.member)}
                </th>
                <td className="govuk-table__cell govuk-table__cell--numeric">{m.withheld!.restricted}</td>
                <td className="govuk-table__cell govuk-table__cell--numeric">{m.withheld!.reviewOverdue}</td>
                <td className="govuk-table__cell govuk-table__cell--numeric">
                  {m.withheld!.notDisclosable + (m.withheld!.integrityFault ?? 0)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function RiskSummary({ history }: { history: ChildHistory }) {
  const r = history.riskSummary;
  const t = r.repeatThreshold;
  const rows: [string, React.ReactNode][] = [
    ['Episodes in the last 30 days', r.last30Days],
    ['Episodes in the last 90 days', r.last90Days],
    ['Episodes in the last 365 days', r.last365Days],
    [
      'Repeat threshold',
      <span key="t">
        {t.count} in {t.days} days:{' '}
        {t.crossed ? (
          <strong className="govuk-tag govuk-tag--red">Crossed ({t.incidents} episodes)</strong>
        ) : (
          <strong className="govuk-tag govuk-tag--grey">Not crossed ({t.incidents} episodes)</strong>
        )}
      </span>,
    ],
    ['Highest risk grade', r.highestGrade ? GRADE_WORDS[r.highestGrade] : 'none graded'],
    ['Latest risk grade', r.latestGrade ? GRADE_WORDS[r.latestGrade] : 'none graded'],
    ['Indicators', r.indicators.length ? r.indicators.map(words).join(', ') : 'none'],
    ['Forces involved', r.forcesInvolved.map(forceName).join(', ') || 'none'],
    ['Out-of-area episodes', r.outOfAreaIncidents],
    ['Return interviews overdue', r.overdueReturnInterviews],
  ];
  return (
    <section aria-labelledby="risk" className="mcx-section">
      <h2 className="govuk-heading-m" id="risk">
        Risk summary
      </h2>
      <dl className="govuk-summary-list">
        {rows.map(([k, v]) => (
          <div className="govuk-summary-list__row" key={k}>
            <dt className="govuk-summary-list__key">{k}</dt>
            <dd className="govuk-summary-list__value">{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
