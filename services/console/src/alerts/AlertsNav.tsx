import type { AlertInbox } from './useAlertInbox';

/**
 * The investigator's pages once a case is set: search, and the alerts with how many are not yet
 * acknowledged. A polite live region says each new alert as it arrives, on whichever page is open.
 */
export function AlertsNav(props: { current: string; inbox: AlertInbox; onGo: (page: 'search' | 'alerts') => void }) {
  const { inbox, current } = props;
  const link = (page: 'search' | 'alerts', href: string, label: React.ReactNode) => (
    <li className="mcx-nav__item">
      <a
        className="govuk-link mcx-nav__link"
        href={href}
        aria-current={current === page || (page === 'search' && current === 'history') ? 'page' : undefined}
        onClick={(e) => {
          e.preventDefault();
          props.onGo(page);
        }}
      >
        {label}
      </a>
    </li>
  );
  return (
    <nav className="mcx-nav mcx-no-print" aria-label="Pages">
      <ul className="mcx-nav__list">
        {link('search', '/console/', 'Search')}
        {link(
          'alerts',
          '/console/',
          <>
            Alerts{' '}
            <span className="mcx-count" data-unacknowledged={inbox.unacknowledged}>
              {inbox.unacknowledged}
              <span className="govuk-visually-hidden"> not acknowledged</span>
            </span>
          </>,
        )}
      </ul>
      <p className="govuk-visually-hidden" aria-live="polite" data-testid="alert-announcement">
        {inbox.announcement}
      </p>
    </nav>
  );
}
