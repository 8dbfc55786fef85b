import './alerts.scss';

import { useState } from 'react';

import { ApiError } from '../api';
import type { ConsoleAlertFragment } from '../operations';
import { Refusal } from '../review/load';
import { forceName, GRADE_WORDS, when } from '../words';
import { alertHeadline, type AlertInbox, type StreamState } from './useAlertInbox';

const KIND_WORDS: Record<ConsoleAlertFragment['kind'], string> = {
  CROSS_MATCH: 'Missing now elsewhere',
  CROSS_MATCH_SUMMARY: 'Who else holds history',
  REPEAT_THRESHOLD: 'Repeat missing threshold',
  WATCH: 'Watched child',
};

const STATE_WORDS: Record<StreamState, string> = {
  loading: 'Loading the alerts…',
  live: 'New alerts appear here as they arrive.',
  reconnecting: 'The connection to the node was lost. Reconnecting: no alert will be missed.',
  'signed-out': 'Your sign-in has ended, so new alerts cannot arrive. Sign out and sign in again.',
  'too-many': 'You have too many alert pages open (for example in other tabs). Close one to see new alerts here.',
  failed: 'The node refused to send new alerts. Reload the page to try again.',
};

function Row({ k, children }: { k: string; children: React.ReactNode }) {
  return (
    <div className="govuk-summary-list__row">
      <dt className="govuk-summary-list__key">{k}</dt>
      <dd className="govuk-summary-list__value">{children}</dd>
    </div>
  );
}

function AlertCard({
  alert: a,
  isNew,
  onAcknowledge,
}: {
  alert: ConsoleAlertFragment;
  isNew: boolean;
  onAcknowledge: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const titleId = `alert-${a.id}`;
  return (
    <section className="govuk-summary-card mcx-alert" aria-labelledby={titleId} data-alert={a.id}>
      <div className="govuk-summary-card__title-wrapper">
        <h2 className="govuk-summary-card__title" id={titleId}>
          {alertHeadline(a)}
        </h2>
        <p className="mcx-alert__tags">
          {isNew && <strong className="govuk-tag govuk-tag--blue">New</strong>}
          {a.acknowledgedAt ? (
            <strong className="govuk-tag govuk-tag--grey">Acknowledged</strong>
          ) : (
            <strong className="govuk-tag govuk-tag--yellow">Not acknowledged</strong>
          )}
        </p>
      </div>
      <div className="govuk-summary-card__content">
        <dl className="govuk-summary-list">
          <Row k="Alert">{KIND_WORDS[a.kind]}</Row>
          <Row k="Member">{`${forceName(a.episode.owner)} (${a.episode.owner})`}</Row>
          <Row k="Their reference">{a.episode.ownerReference ?? 'Withheld by their policy: ask them'}</Row>
          <Row k="24/7 contact">{a.episode.contact24x7 ?? 'Not given'}</Row>
          <Row k="Risk grade">{a.episode.riskGrade ? (GRADE_WORDS[a.episode.riskGrade] ?? a.episode.riskGrade) : 'Not given'}</Row>
          {a.holders.length > 0 && (
            <Row k="Members holding history">{a.holders.map((h) => `${forceName(h.member)}: ${h.episodes} episodes`).join('; ')}</Row>
          )}
          {a.threshold && (
            <Row k="Threshold">
              {a.threshold.episodes === null
                ? `${a.threshold.count} or more episodes in ${a.threshold.days} days (their episode count is not shared with us)`
                : `${a.threshold.episodes} episodes in ${a.threshold.days} days (threshold ${a.threshold.count})`}
            </Row>
          )}
          <Row k="Received">{when(a.receivedAt)}</Row>
          <Row k="Acknowledged">
            {a.acknowledgedAt ? (
              // The node names the person as "you", "a colleague at WMP" or "someone at another organisation" (never their id).
              `By ${a.acknowledgedBy ?? 'someone'} on ${when(a.acknowledgedAt)}`
            ) : (
              <>
                <button
                  type="button"
                  className="govuk-button govuk-button--secondary mcx-alert__ack"
                  disabled={busy}
                  onClick={() => {
                    setBusy(true);
                    setFailed(null);
                    onAcknowledge()
                      .catch((err: unknown) => setFailed(err instanceof ApiError ? err.message : 'the node did not answer'))
                      .finally(() => setBusy(false));
                  }}
                >
                  Acknowledge<span className="govuk-visually-hidden"> this alert</span>
                </button>
                {failed && <p className="govuk-error-message">The acknowledgement failed: {failed}</p>}
              </>
            )}
          </Row>
        </dl>
      </div>
    </section>
  );
}

/** The Alerts page: this node's inbox, newest first, kept live by the alert stream. */
export function AlertsPage({ inbox, role }: { inbox: AlertInbox; role: string | null }) {
  const { alerts, state } = inbox;
  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Alerts
      </h1>
      <p className="govuk-body">
        Alerts tell you when a child this force holds is missing now somewhere else, who else holds history, or when a child reaches the
        repeat missing threshold. Confirm with the member before acting on one.
      </p>
      <Refusal error={inbox.error} role={role} />
      <p className={`govuk-body mcx-alerts__state mcx-alerts__state--${state}`} data-state={state}>
        {STATE_WORDS[state]}
      </p>
      <p className="govuk-body">
        {alerts.length === 0 && state !== 'loading'
          ? 'There are no alerts.'
          : `${alerts.length} ${alerts.length === 1 ? 'alert' : 'alerts'}, ${inbox.unacknowledged} not acknowledged. Newest first.`}
      </p>
      {alerts.map((a) => (
        <AlertCard key={a.id} alert={a} isNew={inbox.fresh.has(a.id)} onAcknowledge={() => inbox.acknowledge(a.id)} />
      ))}
    </>
  );
}
