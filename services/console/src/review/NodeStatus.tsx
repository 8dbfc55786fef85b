import type { Api } from '../api';
import { ConsoleNodeStatusDocument } from '../operations';
import { forceName, when, words } from '../words';
import { Address } from './Address';
import { Loading, Refusal, useLoad } from './load';
import { ScrollRegion } from './ScrollRegion';

/** Time left before an instant, in words: "29 days", or "expired 2 hours ago". */
function timeLeft(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  const unit = (v: number) =>
    v >= 86_400_000
      ? `${Math.floor(v / 86_400_000)} days`
      : v >= 3_600_000
        ? `${Math.floor(v / 3_600_000)} hours`
        : `${Math.max(0, Math.floor(v / 60_000))} minutes`;
  return ms >= 0 ? `${unit(ms)} left` : `expired ${unit(-ms)} ago`;
}

const BREAKER: Record<string, { text: string; tag: string }> = {
  closed: { text: 'Closed (calls go through)', tag: 'govuk-tag--green' },
  half_open: { text: 'Half open (one trial call)', tag: 'govuk-tag--yellow' },
  open: { text: 'Open (calls paused)', tag: 'govuk-tag--red' },
};

export function NodeStatus({ api, role }: { api: Api; role: string | null }) {
  const status = useLoad(() => api.query(ConsoleNodeStatusDocument, {}), [api]);
  const s = status.data?.nodeStatus;
  const summary: [string, string][] = s
    ? [
        ['Force', `${forceName(s.force)} (${s.force})`],
        ['Environment', s.environment],
        [
          'Trust manifest',
          s.manifestVersion === null
            ? 'None: this node is not federated'
            : `Version ${s.manifestVersion}, ${s.manifestStatus ?? 'unknown'}${s.manifestExpiresAt ? `; expires ${when(s.manifestExpiresAt)} (${timeLeft(s.manifestExpiresAt)})` : ''}`,
        ],
        [
          'Database migrations',
          `${s.migrationsApplied} of ${s.migrationsExpected} applied${s.migrationsApplied === s.migrationsExpected ? ' (current)' : ' (NOT CURRENT)'}`,
        ],
        ['Record integrity', s.integrity.state === 'OK' ? 'No fault detected' : `FAULT: ${s.integrity.faultsDetected} faulty reads`],
      ]
    : [];
  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Node status
      </h1>
      <Refusal error={status.error} role={role} />
      <Loading loading={status.loading} />
      <button type="button" className="govuk-button govuk-button--secondary" onClick={status.reload}>
        Refresh
      </button>
      {s && (
        <>
          <dl className="govuk-summary-list">
            {summary.map(([k, v]) => (
              <div className="govuk-summary-list__row" key={k}>
                <dt className="govuk-summary-list__key">{k}</dt>
                <dd className="govuk-summary-list__value">{v}</dd>
              </div>
            ))}
          </dl>
          <table className="govuk-table">
            <caption className="govuk-table__caption govuk-table__caption--m">Keys by job</caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                <th scope="col" className="govuk-table__header">
                  Job
                </th>
                <th scope="col" className="govuk-table__header">
                  Key id (kid)
                </th>
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {s.keys.map((k) => (
                <tr className="govuk-table__row" key={k.job}>
                  <td className="govuk-table__cell">{k.job}</td>
                  <td className="govuk-table__cell mcx-break">{k.kid}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ScrollRegion label="Members">
            <table className="govuk-table mcx-members">
              <caption className="govuk-table__caption govuk-table__caption--m">Members</caption>
              <thead className="govuk-table__head">
                <tr className="govuk-table__row">
                  {['Member', 'Endpoint', 'Capabilities', 'Breaker', 'Recent latency', 'Recent results'].map((h) => (
                    <th scope="col" className="govuk-table__header" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="govuk-table__body">
                {s.members.map((m) => (
                  <tr className="govuk-table__row" key={m.member} data-member={m.member}>
                    <th scope="row" className="govuk-table__header">
                      {forceName(m.member)} ({m.member})
                    </th>
                    <td className="govuk-table__cell">
                      <Address address={m.endpoint} />
                    </td>
                    <td className="govuk-table__cell mcx-small">{m.capabilities.join(', ')}</td>
                    <td className="govuk-table__cell">
                      <strong className={`govuk-tag ${BREAKER[m.breaker]?.tag ?? ''}`}>{BREAKER[m.breaker]?.text ?? m.breaker}</strong>
                    </td>
                    <td className="govuk-table__cell">{m.recentLatencyMs === null ? 'No call yet' : `${m.recentLatencyMs} ms (median)`}</td>
                    <td className="govuk-table__cell">
                      {m.recentStatuses.length === 0 ? 'None' : m.recentStatuses.map((c) => `${words(c.status)}: ${c.count}`).join(', ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      )}
    </>
  );
}
