import { useState, type FormEvent } from 'react';

import { ApiError, type Api } from '../api';
import { ConsoleWhoHasSeenChildDocument, type ConsoleWhoHasSeenChildQuery, type McxChildIdentityInput } from '../operations';
import { ErrorSummary } from '../pages/ErrorSummary';
import { fieldError, words } from '../words';
import { EntryTable } from './EntryTable';
import { Refusal } from './load';

type Answer = ConsoleWhoHasSeenChildQuery['whoHasSeenChild'];

/**
 * Who has seen this child: from an identity, through linkage keys, every read of this force's
 * records of the child, here and by other forces. The lookup itself is audited. The identity
 * typed here is sent once and not kept; the answer holds ids and codes only.
 */
export function WhoHasSeen({ api, role }: { api: Api; role: string | null }) {
  const [form, setForm] = useState<Record<string, string>>({});
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const identity: McxChildIdentityInput = {};
    if (form.forename?.trim()) identity.forename = form.forename.trim();
    if (form.surname?.trim()) identity.surname = form.surname.trim();
    const [day, month, year] = [form.day, form.month, form.year].map((v) => v?.trim() ?? '');
    if (day || month || year) identity.dob = `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}`;
    if (form.sex) identity.sex = form.sex as McxChildIdentityInput['sex'];
    if (form.nhsNumber?.trim()) identity.nhsNumber = form.nhsNumber.replace(/\s/g, '');
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer((await api.query(ConsoleWhoHasSeenChildDocument, { identity, first: 200 })).whoHasSeenChild);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(undefined));
    } finally {
      setBusy(false);
    }
  };
  const input = (id: string, label: string) => (
    <div className="govuk-form-group">
      <label className="govuk-label" htmlFor={`who-${id}`}>
        {label}
      </label>
      <input
        className="govuk-input govuk-input--width-20"
        id={`who-${id}`}
        type="text"
        autoComplete="off"
        spellCheck={false}
        value={form[id] ?? ''}
        onChange={(e) => setForm({ ...form, [id]: e.target.value })}
      />
    </div>
  );
  const fieldProblem = error && error.code !== 'FORBIDDEN' && (error.field || error.reason);

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Who has seen this child?
      </h1>
      <p className="govuk-body">
        Enter what you know of the child. The node finds its records of the child through linkage keys, and lists every consultation and
        disclosure of them, here and by other forces. This lookup is itself recorded in the audit log.
      </p>
      {fieldProblem ? (
        <ErrorSummary errors={[{ field: 'who-forename', message: fieldError(error.reason, error.field, error.message) }]} />
      ) : (
        <Refusal error={error} role={role} />
      )}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="The child's identity">
        {input('forename', 'First name')}
        {input('surname', 'Last name')}
        <div className="govuk-form-group">
          <fieldset className="govuk-fieldset" role="group" aria-describedby="who-dob-hint">
            <legend className="govuk-fieldset__legend govuk-fieldset__legend--s">Date of birth</legend>
            <div id="who-dob-hint" className="govuk-hint">
              For example, 27 3 2012
            </div>
            <div className="govuk-date-input">
              {(
                [
                  ['day', 'Day', 2],
                  ['month', 'Month', 2],
                  ['year', 'Year', 4],
                ] as const
              ).map(([id, label, width]) => (
                <div className="govuk-date-input__item" key={id}>
                  <div className="govuk-form-group">
                    <label className="govuk-label govuk-date-input__label" htmlFor={`who-${id}`}>
                      {label}
                    </label>
                    <input
                      className={`govuk-input govuk-date-input__input govuk-input--width-${width}`}
                      id={`who-${id}`}
                      type="text"
                      inputMode="numeric"
                      autoComplete="off"
                      value={form[id] ?? ''}
                      onChange={(e) => setForm({ ...form, [id]: e.target.value })}
                    />
                  </div>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
        <div className="govuk-form-group">
          <label className="govuk-label" htmlFor="who-sex">
            Sex
          </label>
          <select className="govuk-select" id="who-sex" value={form.sex ?? ''} onChange={(e) => setForm({ ...form, sex: e.target.value })}>
            <option value="">Not known</option>
            {['FEMALE', 'MALE', 'OTHER'].map((v) => (
              <option key={v} value={v}>
                {words(v)}
              </option>
            ))}
          </select>
        </div>
        {input('nhsNumber', 'NHS number (optional)')}
        <button type="submit" className="govuk-button" disabled={busy}>
          Find who has seen this child
        </button>
      </form>
      <section aria-labelledby="seen-title" className="mcx-seen" aria-live="polite">
        {answer && (
          <>
            <h2 className="govuk-heading-m" id="seen-title">
              {answer.entries.length === 0
                ? 'Nobody has read these records'
                : `${answer.entries.length} read${answer.entries.length === 1 ? '' : 's'} of ${answer.records} record${answer.records === 1 ? '' : 's'} held here`}
            </h2>
            {answer.records === 0 && <p className="govuk-body">No record held here matches this identity.</p>}
            {answer.entries.length > 0 && <EntryTable caption="Reads of this child's records, oldest first" entries={answer.entries} />}
            {answer.nextCursor && <p className="govuk-body">There are more: narrow the search in the audit log by record.</p>}
          </>
        )}
      </section>
    </>
  );
}
