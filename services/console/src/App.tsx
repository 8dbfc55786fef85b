import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { AlertsNav } from './alerts/AlertsNav';
import { AlertsPage } from './alerts/AlertsPage';
import { useAlertInbox } from './alerts/useAlertInbox';
import { createApi, type CaseContext } from './api';
import { CaseStart } from './pages/CaseStart';
import { History, type Answer } from './pages/History';
import { Search } from './pages/Search';
import { SignIn } from './pages/SignIn';
import { ReviewNav, ReviewPageView } from './review/ReviewPages';
import { homeFor, isReviewPage, pageFromPath, pathOf, REVIEW_PAGES, type ReviewPage } from './review/routes';
import { signOut, startIdleTimer, type Session } from './session';
import type { ConsoleSettings } from './settings';
import { PURPOSE_WORDS } from './words';

type Page = { name: 'case' } | { name: 'search' } | { name: 'history'; answer: Answer } | { name: 'alerts' } | { name: ReviewPage };

const TITLES: Record<Page['name'] | 'signin', string> = {
  signin: 'Sign in',
  case: 'Purpose and case reference',
  search: 'Search by identity',
  history: "Child's history",
  alerts: 'Alerts',
  ...Object.fromEntries(Object.entries(REVIEW_PAGES).map(([k, v]) => [k, v.title])),
} as Record<Page['name'] | 'signin', string>;

const initialPage = (): Page => {
  const p = pageFromPath(location.pathname);
  return p ? { name: p } : { name: 'case' };
};

export function App(props: { settings: ConsoleSettings; initialSession: Session | null; signInError: string | null }) {
  const { settings, initialSession } = props;
  const [session, setSession] = useState<Session | null>(initialSession);
  const [caseCtx, setCaseCtx] = useState<CaseContext | null>(null);
  const [page, setPage] = useState<Page>(initialPage);
  const main = useRef<HTMLElement>(null);
  const current = session ? page.name : 'signin';
  const api = useMemo(() => (session && caseCtx ? createApi(session, caseCtx) : null), [session, caseCtx]);
  // The auditors' and operators' pages send no case: the node records their reads as AUDIT_REVIEW.
  const reviewApi = useMemo(() => (session ? createApi(session, null) : null), [session]);
  const role = session?.role ?? null;
  // Investigators with a case see the inbox live (alerts are read under the case's purpose).
  const inbox = useAlertInbox(role === 'investigator' || role === null ? api : null, session, caseCtx);

  useEffect(() => {
    document.title = `${TITLES[current]} - MCX console`;
    // A new page: focus its heading, so a screen reader or keyboard starts at the top of it.
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [current, page]);

  useEffect(
    () => (session ? startIdleTimer(settings.idleSeconds, () => void signOut('idle', session, settings)) : undefined),
    [session, settings],
  );

  const go = useCallback((p: Page) => {
    const path = pathOf(isReviewPage(p.name) ? p.name : null);
    if (location.pathname !== path) history.pushState(null, '', path);
    setPage(p);
  }, []);

  // Signed in on the address of no particular page: an auditor or operator starts on their first page.
  useEffect(() => {
    const home = homeFor(session?.role ?? null);
    if (session && home && !pageFromPath(location.pathname)) go({ name: home });
  }, [session, go]);

  useEffect(() => {
    const back = () => setPage(initialPage());
    window.addEventListener('popstate', back);
    return () => window.removeEventListener('popstate', back);
  }, []);

  const signedOut = new URLSearchParams(location.search).get('signed-out');

  return (
    <>
      <a href="#main" className="govuk-skip-link">
        Skip to main content
      </a>
      <header className="mcx-header" role="banner">
        <div className="govuk-width-container mcx-header__inner">
          <span className="mcx-header__service">MCX · Missing Children Exchange</span>
          <span className="mcx-header__force">{settings.force} node</span>
          {session && (
            <span className="mcx-header__user">
              Signed in: {session.who}{' '}
              <button
                type="button"
                className="govuk-button govuk-button--secondary mcx-header__signout"
                onClick={() => void signOut('user', session, settings)}
              >
                Sign out
              </button>
            </span>
          )}
        </div>
      </header>
      <div className="govuk-width-container">
        {settings.environment !== 'production' && (
          <div className="govuk-phase-banner mcx-no-print">
            <p className="govuk-phase-banner__content">
              <strong className="govuk-tag govuk-phase-banner__content__tag">{settings.environment}</strong>
              <span className="govuk-phase-banner__text">Synthetic data only. This node is not for live cases.</span>
            </p>
          </div>
        )}
        {session && role !== 'investigator' && <ReviewNav role={role} current={page.name} onGo={(p) => go({ name: p })} />}
        {session && api && (role === 'investigator' || role === null) && (
          <AlertsNav current={page.name} inbox={inbox} onGo={(name) => go({ name })} />
        )}
        {session && caseCtx && !isReviewPage(page.name) && (
          <div className="mcx-case" aria-label="This session's case">
            <dl className="mcx-case__list">
              <div>
                <dt>Purpose</dt>
                <dd>{PURPOSE_WORDS[caseCtx.purpose] ?? caseCtx.purpose}</dd>
              </div>
              <div>
                <dt>Case reference</dt>
                <dd>{caseCtx.caseRef}</dd>
              </div>
            </dl>
            <button type="button" className="govuk-button govuk-button--secondary mcx-no-print" onClick={() => go({ name: 'case' })}>
              Change case
            </button>
          </div>
        )}
        <main className="govuk-main-wrapper" id="main" ref={main} tabIndex={-1}>
          {!session && <SignIn settings={settings} signedOut={signedOut} initialError={props.signInError} onSignedIn={setSession} />}
          {session && reviewApi && isReviewPage(page.name) && (
            <ReviewPageView page={page.name} api={reviewApi} role={role} settings={settings} />
          )}
          {session && page.name === 'case' && (
            <CaseStart
              settings={settings}
              initial={caseCtx}
              onDone={(ctx) => {
                setCaseCtx(ctx);
                go({ name: 'search' });
              }}
            />
          )}
          {session && api && page.name === 'alerts' && <AlertsPage inbox={inbox} role={role} />}
          {session && api && page.name === 'search' && <Search api={api} onFound={(answer) => go({ name: 'history', answer })} />}
          {session && api && caseCtx && page.name === 'history' && (
            <History api={api} settings={settings} caseCtx={caseCtx} answer={page.answer} onNewSearch={() => go({ name: 'search' })} />
          )}
        </main>
      </div>
    </>
  );
}
