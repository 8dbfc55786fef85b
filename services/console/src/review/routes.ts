/** The auditors' and operators' pages: each has its own address under /console/, and the role that may use it. */
export const REVIEW_PAGES = {
  'audit-log': { path: 'audit/log', title: 'Audit log', role: 'auditor' },
  'who-has-seen': { path: 'audit/who-has-seen', title: 'Who has seen this child?', role: 'auditor' },
  disclosures: { path: 'audit/disclosures', title: 'Disclosures of our records', role: 'auditor' },
  fishing: { path: 'audit/fishing', title: 'Fishing alerts', role: 'auditor' },
  integrity: { path: 'audit/integrity', title: 'Integrity', role: 'auditor' },
  'node-status': { path: 'node/status', title: 'Node status', role: 'operator' },
} as const;
export type ReviewPage = keyof typeof REVIEW_PAGES;

const NAMES = Object.keys(REVIEW_PAGES) as ReviewPage[];

export const isReviewPage = (name: string): name is ReviewPage => name in REVIEW_PAGES;

export function pageFromPath(pathname: string): ReviewPage | null {
  const rel = pathname.replace(/^\/console\/?/, '').replace(/\/$/, '');
  return NAMES.find((n) => REVIEW_PAGES[n].path === rel) ?? null;
}

export const pathOf = (page: ReviewPage | null) => `/console/${page ? REVIEW_PAGES[page].path : ''}`;

/** The pages a role uses; all of them when the role is not known here (the node refuses what it does not allow). */
export const pagesFor = (role: string | null): ReviewPage[] => (role === null ? NAMES : NAMES.filter((n) => REVIEW_PAGES[n].role === role));

/** Where a role starts: the investigator with purpose and case reference, the others on their first page. */
export function homeFor(role: string | null): ReviewPage | null {
  if (role === 'auditor') return 'audit-log';
  if (role === 'operator') return 'node-status';
  return null;
}
