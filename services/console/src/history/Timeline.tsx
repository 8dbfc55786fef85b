import { fieldPath, forceName, GRADE_WORDS, when, words } from '../words';
import type { ChildHistory } from './child-history';

type Incident = ChildHistory['incidents'][number];
type Episode = Incident['sources'][number]['episode'];
type Place = Episode['missingFrom'];

function place(p: Place | null | undefined): string {
  if (!p) return 'not recorded';
  const l = p.location;
  const where = l ? [l.postcode, l.uprn ? `UPRN ${l.uprn}` : null].filter(Boolean).join(', ') : '';
  return `${words(p.kind)}${where ? `, ${where}` : ''}`;
}

function returnInterview(e: Episode, incident: Incident): string {
  const ri = e.returnInterview;
  if (e.status === 'OPEN') return 'not yet: still missing';
  if (!ri) return incident.foundAt ? 'none recorded' : 'not recorded';
  if (!ri.offered) return ri.notHeldReason ? `not held: ${words(ri.notHeldReason)}` : 'not offered';
  const offered = `offered ${when(ri.offeredAt)}${ri.offeredWithin72Hours === false ? ' (after 72 hours)' : ri.offeredWithin72Hours ? ' (within 72 hours)' : ''}`;
  return ri.completedAt ? `${offered}; held ${when(ri.completedAt)}` : `${offered}; not yet held`;
}

export function Timeline({ history }: { history: ChildHistory }) {
  return (
    <section aria-labelledby="timeline" className="mcx-section">
      <h2 className="govuk-heading-m" id="timeline">
        Timeline of episodes
      </h2>
      <p className="govuk-body">Newest first. Episodes that overlap at several forces are one episode with several sources.</p>
      {history.incidents.length === 0 && <p className="govuk-body">No episodes found.</p>}
      <ol className="mcx-timeline">
        {history.incidents.map((incident) => (
          <li className="mcx-timeline__item" key={incident.sources.map((s) => `${s.owner}/${s.episode.id}`).join(' ')}>
            <h3 className="mcx-timeline__title">
              {incident.status === 'OPEN' ? 'Missing now' : 'Missing'} from {when(incident.lastSeenAt)}
              {incident.foundAt ? ` to ${when(incident.foundAt)}` : ''}
            </h3>
            <p className="mcx-timeline__byline">
              Risk {GRADE_WORDS[incident.riskGrade] ?? incident.riskGrade}
              {incident.indicators.length ? ` · ${incident.indicators.map(words).join(', ')}` : ''}
              {incident.outOfArea ? ' · out of area' : ''}
            </p>
            {incident.sources.map((s) => (
              <dl className="govuk-summary-list govuk-summary-list--no-border mcx-timeline__source" key={`${s.owner}/${s.episode.id}`}>
                <div className="govuk-summary-list__row">
                  <dt className="govuk-summary-list__key">Source</dt>
                  <dd className="govuk-summary-list__value">
                    {forceName(s.owner)}, reference {s.ownerReference}
                    {s.confirmWithOwner ? ' (confirm with the owner before acting)' : ''}
                  </dd>
                </div>
                <div className="govuk-summary-list__row">
                  <dt className="govuk-summary-list__key">Missing from</dt>
                  <dd className="govuk-summary-list__value">{place(s.episode.missingFrom)}</dd>
                </div>
                <div className="govuk-summary-list__row">
                  <dt className="govuk-summary-list__key">Found at</dt>
                  <dd className="govuk-summary-list__value">
                    {s.episode.status === 'OPEN' ? 'still missing' : place(s.episode.foundPlace)}
                  </dd>
                </div>
                <div className="govuk-summary-list__row">
                  <dt className="govuk-summary-list__key">Return interview</dt>
                  <dd className="govuk-summary-list__value">{returnInterview(s.episode, incident)}</dd>
                </div>
                {s.episode.disclosure && s.episode.disclosure.redacted.length + s.episode.disclosure.coarsened.length > 0 && (
                  <div className="govuk-summary-list__row">
                    <dt className="govuk-summary-list__key">As disclosed</dt>
                    <dd className="govuk-summary-list__value">
                      The owner's policy{' '}
                      {s.episode.disclosure.redacted.length ? `removed ${s.episode.disclosure.redacted.map(fieldPath).join(', ')}` : ''}
                      {s.episode.disclosure.redacted.length && s.episode.disclosure.coarsened.length ? ' and ' : ''}
                      {s.episode.disclosure.coarsened.length
                        ? `made the ${s.episode.disclosure.coarsened.map(fieldPath).join(', ')} coarser`
                        : ''}
                    </dd>
                  </div>
                )}
              </dl>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function PossibleMatches({ history }: { history: ChildHistory }) {
  return (
    <section aria-labelledby="possible" className="mcx-section">
      <h2 className="govuk-heading-m" id="possible">
        Possible matches
      </h2>
      {history.possible.length === 0 ? (
        <p className="govuk-body">None: every episode above matched strongly.</p>
      ) : (
        <>
          <div className="govuk-warning-text">
            <span className="govuk-warning-text__icon" aria-hidden="true">
              !
            </span>
            <strong className="govuk-warning-text__text">
              <span className="govuk-visually-hidden">Warning</span>
              These may be another child. They are not in the summary above: confirm with the owner before relying on them.
            </strong>
          </div>
          <table className="govuk-table">
            <caption className="govuk-table__caption govuk-table__caption--s">Episodes that matched in part</caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                <th scope="col" className="govuk-table__header">
                  Force and reference
                </th>
                <th scope="col" className="govuk-table__header">
                  Reported
                </th>
                <th scope="col" className="govuk-table__header">
                  What matched
                </th>
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {history.possible.map((p) => (
                <tr className="govuk-table__row" key={`${p.episode.owner}/${p.episode.id}`}>
                  <td className="govuk-table__cell">
                    {forceName(p.episode.owner)}, {p.episode.ownerReference}
                  </td>
                  <td className="govuk-table__cell">{when(p.episode.reportedAt)}</td>
                  <td className="govuk-table__cell">{p.matchedKinds.map(words).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
