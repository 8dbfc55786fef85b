import type { Api } from '../api';
import type { ConsoleSettings } from '../settings';
import { AuditLog } from './AuditLog';
import { Disclosures } from './Disclosures';
import { Fishing } from './Fishing';
import { Integrity } from './Integrity';
import { NodeStatus } from './NodeStatus';
import { pagesFor, pathOf, REVIEW_PAGES, type ReviewPage } from './routes';
import { WhoHasSeen } from './WhoHasSeen';

/** One of the auditors' or operators' pages. */
export function ReviewPageView(props: { page: ReviewPage; api: Api; role: string | null; settings: ConsoleSettings }) {
  const { api, role } = props;
  switch (props.page) {
    case 'audit-log':
      return <AuditLog api={api} role={role} purposes={props.settings.purposes} />;
    case 'who-has-seen':
      return <WhoHasSeen api={api} role={role} />;
    case 'disclosures':
      return <Disclosures api={api} role={role} />;
    case 'fishing':
      return <Fishing api={api} role={role} />;
    case 'integrity':
      return <Integrity api={api} role={role} />;
    case 'node-status':
      return <NodeStatus api={api} role={role} />;
  }
}

/** The pages of the signed-in role, as links: each has its own address, so it can be bookmarked or opened anew. */
export function ReviewNav(props: { role: string | null; current: string; onGo: (p: ReviewPage) => void }) {
  const pages = pagesFor(props.role);
  if (pages.length === 0) return null;
  return (
    <nav className="mcx-nav mcx-no-print" aria-label="Pages">
      <ul className="mcx-nav__list">
        {pages.map((p) => (
          <li key={p} className="mcx-nav__item">
            <a
              className="govuk-link mcx-nav__link"
              href={pathOf(p)}
              aria-current={props.current === p ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                props.onGo(p);
              }}
            >
              {REVIEW_PAGES[p].title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
