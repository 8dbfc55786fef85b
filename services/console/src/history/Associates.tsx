import { useState } from 'react';

import { ApiError, type Api } from '../api';
import { RequestAssociateDetailsDocument } from '../operations';
import type { ConsoleSettings } from '../settings';
import { forceName, refusalWords, when, words } from '../words';
import type { ChildHistory } from './child-history';
import { Tel } from './Summary';

type HistoryAssociate = ChildHistory['associates'][number];

/** "Found with, 2 episodes (West Midlands Police)": one line per role and force. */
function seenIn(a: HistoryAssociate): string {
  const counts = new Map<string, number>();
  for (const s of a.seenIn)
    counts.set(`${words(s.role)} (${forceName(s.owner)})`, (counts.get(`${words(s.role)} (${forceName(s.owner)})`) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? k.replace(' (', `, ${n} episodes (`) : k)).join('; ');
}
type Request = { step: 'confirm' } | { step: 'asking' } | { step: 'named'; name: string } | { step: 'refused'; message: string };

function Associate({ a, api, settings }: { a: HistoryAssociate; api: Api; settings: ConsoleSettings }) {
  const [request, setRequest] = useState<Request | null>(null);
  const p = a.pointer;
  const key = `${p.owner}-${p.id}`;
  const ours = p.owner === settings.force;

  const ask = async () => {
    setRequest({ step: 'asking' });
    try {
      const { requestAssociateDetails: d } = await api.mutate(RequestAssociateDetailsDocument, { owner: p.owner, id: p.id });
      setRequest({ step: 'named', name: `${d.givenName} ${d.familyName}` });
    } catch (err) {
      setRequest({ step: 'refused', message: err instanceof ApiError ? refusalWords(err.code, err.reason) : 'The request failed.' });
    }
  };

  return (
    <div className="govuk-summary-card" role="group" aria-labelledby={`${key}-title`}>
      <div className="govuk-summary-card__title-wrapper">
        <h3 className="govuk-summary-card__title" id={`${key}-title`}>
          {words(p.kind)} held by {forceName(p.owner)}
          {p.ownerReference ? `, reference ${p.ownerReference}` : ''}
        </h3>
      </div>
      <div className="govuk-summary-card__content">
        <dl className="govuk-summary-list">
          <div className="govuk-summary-list__row">
            <dt className="govuk-summary-list__key">Seen in</dt>
            <dd className="govuk-summary-list__value">{seenIn(a) || 'not recorded'}</dd>
          </div>
          <div className="govuk-summary-list__row">
            <dt className="govuk-summary-list__key">Flags</dt>
            <dd className="govuk-summary-list__value">{p.flags.map(words).join(', ') || 'none'}</dd>
          </div>
          <div className="govuk-summary-list__row">
            <dt className="govuk-summary-list__key">Other children linked</dt>
            <dd className="govuk-summary-list__value">
              {a.otherChildrenLinked === null ? (
                'not counted yet by the force that holds it'
              ) : (
                <>
                  {a.otherChildrenLinked} {a.otherChildrenLinked === 1 ? 'child' : 'children'}
                  {a.forcesLinked.length ? `, at ${a.forcesLinked.map(forceName).join(', ')}` : ''}
                  {a.linksComplete ? '' : ' (not every force has been counted: there may be more)'}
                  {a.linkCountsAsOf ? `; counts as of ${when(a.linkCountsAsOf)}` : ''}
                </>
              )}
            </dd>
          </div>
        </dl>
        {!ours && (
          <p className="govuk-body">
            Names are released only by the force that holds the record. Call {forceName(p.owner)}'s 24/7 contact: <Tel number={p.contact} />
          </p>
        )}
        {ours && request === null && (
          <button
            type="button"
            className="govuk-button govuk-button--secondary mcx-no-print"
            onClick={() => setRequest({ step: 'confirm' })}
          >
            Request name from owner
          </button>
        )}
        {ours && request?.step === 'confirm' && (
          <div className="mcx-confirm" role="alertdialog" aria-labelledby={`${key}-confirm`} aria-describedby={`${key}-confirm-text`}>
            <h4 className="govuk-heading-s" id={`${key}-confirm`}>
              Request this person's name?
            </h4>
            <p className="govuk-body" id={`${key}-confirm-text`}>
              This request is audited: it is recorded with your name, purpose and case reference, and {forceName(p.owner)}'s records system
              is asked at once. Ask only if you need the name for this case.
            </p>
            <div className="govuk-button-group">
              <button type="button" className="govuk-button govuk-button--warning" autoFocus onClick={() => void ask()}>
                Yes, request the name
              </button>
              <button type="button" className="govuk-button govuk-button--secondary" onClick={() => setRequest(null)}>
                Cancel
              </button>
            </div>
          </div>
        )}
        {request?.step === 'asking' && (
          <p className="govuk-body" role="status">
            Asking {forceName(p.owner)}'s records system…
          </p>
        )}
        {request?.step === 'named' && (
          <div className="govuk-inset-text" role="status">
            <p className="govuk-body govuk-!-font-weight-bold">{request.name}</p>
            <p className="govuk-body">This disclosure was recorded in the audit log with your purpose and case reference.</p>
          </div>
        )}
        {request?.step === 'refused' && (
          <p className="govuk-error-message" role="alert">
            {request.message}
          </p>
        )}
      </div>
    </div>
  );
}

export function Associates({ history, api, settings }: { history: ChildHistory; api: Api; settings: ConsoleSettings }) {
  return (
    <section aria-labelledby="associates" className="mcx-section">
      <h2 className="govuk-heading-m" id="associates">
        Associates
      </h2>
      <p className="govuk-body">Pointers only: no names are shared between forces. A name comes from the force that holds the record.</p>
      {history.associates.length === 0 && <p className="govuk-body">None recorded.</p>}
      {history.associates.map((a) => (
        <Associate key={`${a.pointer.owner}/${a.pointer.id}`} a={a} api={api} settings={settings} />
      ))}
    </section>
  );
}
