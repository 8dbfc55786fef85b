import { useEffect } from 'react';

import type { Api, CaseContext } from '../api';
import { Associates } from '../history/Associates';
import type { ChildHistory } from '../history/child-history';
import { Destinations } from '../history/Destinations';
import { Completeness, MissingNow, RiskSummary } from '../history/Summary';
import { PossibleMatches, Timeline } from '../history/Timeline';
import type { McxChildIdentityInput } from '../operations';
import type { ConsoleSettings } from '../settings';
import { PURPOSE_WORDS, when } from '../words';

export type Identity = McxChildIdentityInput;
/** One search's answer: held by the page while it is shown, never stored. */
export interface Answer {
  history: ChildHistory;
  identity: Identity;
  waitedMs: number;
}

export function History(props: { api: Api; settings: ConsoleSettings; caseCtx: CaseContext; answer: Answer; onNewSearch: () => void }) {
  const { history, identity } = props.answer;
  const complete = history.federation.completeness === 'COMPLETE';

  useEffect(() => {
    // How long the page took to show the answer, for `npm run bench:console`.
    requestAnimationFrame(() => {
      performance.mark('mcx-history-rendered');
      try {
        performance.measure('mcx-history-render', 'mcx-answer', 'mcx-history-rendered');
      } catch {
        // no answer mark (a re-render): nothing to measure
      }
    });
  }, [props.answer]);

  const searched = [identity.forename, identity.surname].filter(Boolean).join(' ') || 'identifiers only';
  return (
    <article className="mcx-history">
      <p className="mcx-marking">OFFICIAL-SENSITIVE</p>
      <span className="govuk-caption-l">Strategy meeting summary</span>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Child's history
      </h1>
      <dl className="govuk-summary-list govuk-summary-list--no-border mcx-asked">
        <div className="govuk-summary-list__row">
          <dt className="govuk-summary-list__key">Searched for</dt>
          <dd className="govuk-summary-list__value">
            {searched}
            {identity.dob ? `, born ${identity.dob}` : ''}
          </dd>
        </div>
        <div className="govuk-summary-list__row">
          <dt className="govuk-summary-list__key">Asked</dt>
          <dd className="govuk-summary-list__value">{when(history.asOf)}</dd>
        </div>
        <div className="govuk-summary-list__row mcx-print-only">
          <dt className="govuk-summary-list__key">Purpose</dt>
          <dd className="govuk-summary-list__value">{PURPOSE_WORDS[props.caseCtx.purpose] ?? props.caseCtx.purpose}</dd>
        </div>
        <div className="govuk-summary-list__row mcx-print-only">
          <dt className="govuk-summary-list__key">Case reference</dt>
          <dd className="govuk-summary-list__value">{props.caseCtx.caseRef}</dd>
        </div>
        <div className="govuk-summary-list__row mcx-print-only">
          <dt className="govuk-summary-list__key">Completeness</dt>
          <dd className="govuk-summary-list__value">{complete ? 'Complete: every force answered' : 'PARTIAL: not every force answered'}</dd>
        </div>
      </dl>
      <div className="govuk-button-group mcx-no-print">
        <button type="button" className="govuk-button govuk-button--secondary" onClick={() => window.print()}>
          Print summary
        </button>
        <button type="button" className="govuk-button govuk-button--secondary" onClick={props.onNewSearch}>
          New search
        </button>
      </div>
      <MissingNow history={history} />
      <Completeness history={history} />
      <RiskSummary history={history} />
      <Timeline history={history} />
      <PossibleMatches history={history} />
      <Destinations history={history} />
      <Associates history={history} api={props.api} settings={props.settings} />
      <p className="mcx-marking">OFFICIAL-SENSITIVE</p>
    </article>
  );
}
