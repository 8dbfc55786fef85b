import { useEffect, useRef, useState, type FormEvent } from 'react';

import type { Api } from '../api';
import { ConsoleAuditEntriesDocument, ConsoleAuditStatusDocument, type ConsoleAuditStatusQuery, type McxAuditFilter } from '../operations';
import { PURPOSE_WORDS, when, words } from '../words';
import { EntryTable, type Entry } from './EntryTable';
import { Loading, Refusal, useLoad } from './load';

const ACTIONS = ['COLLECTION', 'ALTERATION', 'CONSULTATION', 'DISCLOSURE', 'COMBINATION', 'ERASURE', 'AUTHORISATION_FAILURE'];
const OUTCOMES = ['SUCCESS', 'REFUSED', 'ERROR'];
const PAGE = 25;

const TEXT_FILTERS = [
  ['actorSubject', 'Actor (subject)'],
  ['actorForce', 'Organisation (force code)'],
  ['caseRef', 'Case reference'],
  ['recordId', 'Record (owner/id)'],
  ['requestingNode', 'Requesting node (force code)'],
] as const;

type Form = Record<string, string>;

function toFilter(f: Form): McxAuditFilter {
  const filter: McxAuditFilter = {};
  for (const [k] of TEXT_FILTERS) if (f[k]?.trim()) filter[k] = f[k].trim();
  if (f.purpose) filter.purpose = f.purpose;
  if (f.action) filter.action = f.action as McxAuditFilter['action'];
  if (f.outcome) filter.outcome = f.outcome as McxAuditFilter['outcome'];
  if (f.from) filter.from = new Date(`${f.from}T00:00:00`).toISOString();
  if (f.to) filter.to = new Date(`${f.to}T23:59:59.999`).toISOString();
  return filter;
}

/** The log, filtered and paged by the node; an entry opens to everything it holds and where it stands in the chain. */
export function AuditLog({ api, role, purposes }: { api: Api; role: string | null; purposes: string[] }) {
  const [form, setForm] = useState<Form>({});
  const [filter, setFilter] = useState<McxAuditFilter>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [open, setOpen] = useState<number | null>(null);
  const after = cursors.at(-1) ?? null;
  const page = useLoad(() => api.query(ConsoleAuditEntriesDocument, { filter, first: PAGE, after }), [api, filter, after]);
  const status = useLoad(() => api.query(ConsoleAuditStatusDocument, {}), [api]);
  const entries = page.data?.auditEntries.entries ?? [];
  const opened = entries.find((e) => e.seq === open) ?? null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilter(toFilter(form));
    setCursors([null]);
    setOpen(null);
  };
  const field = (id: string, label: string) => (
    <div className="govuk-form-group mcx-filter" key={id}>
      <label className="govuk-label" htmlFor={`f-${id}`}>
        {label}
      </label>
      <input
        className="govuk-input"
        id={`f-${id}`}
        type="text"
        spellCheck={false}
        autoComplete="off"
        value={form[id] ?? ''}
        onChange={(e) => setForm({ ...form, [id]: e.target.value })}
      />
    </div>
  );
  const select = (id: string, label: string, options: string[], name: (o: string) => string) => (
    <div className="govuk-form-group mcx-filter" key={id}>
      <label className="govuk-label" htmlFor={`f-${id}`}>
        {label}
      </label>
      <select className="govuk-select" id={`f-${id}`} value={form[id] ?? ''} onChange={(e) => setForm({ ...form, [id]: e.target.value })}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {name(o)}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Audit log
      </h1>
      <Refusal error={page.error ?? status.error} role={role} />
      {page.error?.code !== 'FORBIDDEN' && (
        <>
          <p className="govuk-body">
            Every collection, alteration, consultation, disclosure, combination and erasure at this node, oldest first.
          </p>
          <form onSubmit={submit} noValidate aria-label="Filter the audit log">
            <div className="mcx-filters">
              {TEXT_FILTERS.map(([id, label]) => field(id, label))}
              {select('purpose', 'Purpose', purposes, (p) => PURPOSE_WORDS[p] ?? p)}
              {select('action', 'Action', ACTIONS, words)}
              {select('outcome', 'Outcome', OUTCOMES, words)}
              {[
                ['from', 'From (date)'],
                ['to', 'To (date)'],
              ].map(([id, label]) => (
                <div className="govuk-form-group mcx-filter" key={id}>
                  <label className="govuk-label" htmlFor={`f-${id}`}>
                    {label}
                  </label>
                  <input
                    className="govuk-input"
                    id={`f-${id}`}
                    type="date"
                    value={form[id!] ?? ''}
                    onChange={(e) => setForm({ ...form, [id!]: e.target.value })}
                  />
                </div>
              ))}
            </div>
            <button type="submit" className="govuk-button">
              Apply filters
            </button>
          </form>
        </>
      )}
      <Loading loading={page.loading} />
      {/* An answer to the last filter or page is not shown as the answer to the new one. */}
      {page.data && !page.stale && (
        <>
          <EntryTable caption={`Entries (page ${cursors.length})`} entries={entries} onOpen={setOpen} />
          {entries.length === 0 && <p className="govuk-body">No entry matches these filters.</p>}
          <div className="govuk-button-group">
            {cursors.length > 1 && (
              <button type="button" className="govuk-button govuk-button--secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
            )}
            {page.data.auditEntries.nextCursor && (
              <button
                type="button"
                className="govuk-button govuk-button--secondary"
                onClick={() => setCursors([...cursors, page.data!.auditEntries.nextCursor!])}
              >
                Next page
              </button>
            )}
          </div>
        </>
      )}
      {opened && <EntryDetail entry={opened} status={status.data?.auditStatus ?? null} onClose={() => setOpen(null)} />}
    </>
  );
}

type Status = ConsoleAuditStatusQuery['auditStatus'];

function EntryDetail({ entry, status, onClose }: { entry: Entry; status: Status | null; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Opened: the keyboard and the screen reader go to it.
  useEffect(() => heading.current?.focus(), [entry.seq]);
  const cp = status?.lastCheckpoint ?? null;
  const covered = cp !== null && entry.seq <= cp.size;
  const rows: [string, string][] = [
    ['Position in the chain', `Entry ${entry.seq}${status ? ` of ${status.entries}` : ''}`],
    [
      'Signed checkpoint',
      covered
        ? `Covered: the checkpoint of the first ${cp.size} entries, signed ${when(cp.signedAt)}`
        : cp
          ? `Not yet covered: after the last checkpoint (${cp.size} entries, signed ${when(cp.signedAt)}), so unverified until the next`
          : 'Not yet covered: no checkpoint has been signed',
    ],
    ['Time', when(entry.at)],
    ['Action', `${words(entry.action)} (${entry.operation})`],
    ['Actor', `${entry.actor.subject}, ${entry.actor.force}, ${entry.actor.orgKind}, roles: ${entry.actor.roles.join(', ') || 'none'}`],
    [
      'Signed in through',
      // Another force's user: the issuer is what that force's node states, as it states the subject.
      entry.actor.issuer === null || entry.actor.issuer === undefined
        ? 'Not recorded'
        : `${entry.actor.issuer}${entry.requestingNode ? ` (as stated by the ${entry.requestingNode} node)` : ''}`,
    ],
    ['Requesting node', entry.requestingNode ?? 'None (a request made at this node)'],
    ['Purpose', entry.purpose ?? 'None given'],
    ['Case reference', entry.caseRef ?? 'None given'],
    ['Records asked for', entry.queryRecordIds.join(', ') || 'None'],
    ['Records touched', entry.recordIds.join(', ') || 'None'],
    ['Outcome', `${words(entry.outcome)}${entry.reason ? ` (${entry.reason})` : ''}`],
    ['Previous hash', entry.prevHash],
    ['Hash', entry.hash],
  ];
  return (
    <section className="mcx-entry" aria-labelledby="entry-title">
      <h2 className="govuk-heading-m" id="entry-title" ref={heading} tabIndex={-1}>
        Entry {entry.seq}
      </h2>
      <dl className="govuk-summary-list">
        {rows.map(([k, v]) => (
          <div className="govuk-summary-list__row" key={k}>
            <dt className="govuk-summary-list__key">{k}</dt>
            <dd className="govuk-summary-list__value mcx-break">{v}</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="govuk-button govuk-button--secondary" onClick={onClose}>
        Close entry
      </button>
    </section>
  );
}
