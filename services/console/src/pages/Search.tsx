import { useState, type FormEvent } from 'react';

import { ApiError, type Api } from '../api';
import { ConsoleChildHistoryDocument, type McxChildIdentityInput, type McxSex } from '../operations';
import { fieldError, refusalWords } from '../words';
import { ErrorSummary, FieldError } from './ErrorSummary';
import type { Answer } from './History';

const SEXES: [McxSex, string][] = [
  ['FEMALE', 'Female'],
  ['MALE', 'Male'],
  ['OTHER', 'Other'],
  ['UNKNOWN', 'Not known'],
];

/** The node's field names, as this form's element ids. */
const FIELD_IDS: Record<string, string> = {
  forename: 'forename',
  surname: 'surname',
  dob: 'dob-day',
  sex: 'sex',
  nhsNumber: 'number',
  chiNumber: 'number',
  pncId: 'pnc-id',
};

type Form = { forename: string; surname: string; day: string; month: string; year: string; dobUnknown: boolean; sex: McxSex | '' };

function toIdentity(f: Form, numberKind: 'nhs' | 'chi', number: string, pncId: string): McxChildIdentityInput {
  const pad = (s: string) => s.trim().padStart(2, '0');
  const dob = f.dobUnknown || (!f.day && !f.month && !f.year) ? null : `${f.year.trim()}-${pad(f.month)}-${pad(f.day)}`;
  const digits = number.replace(/\s+/g, '');
  return {
    forename: f.forename.trim() || null,
    surname: f.surname.trim() || null,
    dob,
    sex: f.sex || null,
    nhsNumber: numberKind === 'nhs' && digits ? digits : null,
    chiNumber: numberKind === 'chi' && digits ? digits : null,
    pncId: pncId.trim() || null,
  };
}

export function Search(props: { api: Api; onFound: (answer: Answer) => void }) {
  const [form, setForm] = useState<Form>({ forename: '', surname: '', day: '', month: '', year: '', dobUnknown: false, sex: '' });
  const [numberKind, setNumberKind] = useState<'nhs' | 'chi'>('nhs');
  const [number, setNumber] = useState('');
  const [pncId, setPncId] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Form, v: string | boolean) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    const partDob = [form.day, form.month, form.year].filter((s) => s.trim()).length;
    if (!form.dobUnknown && partDob > 0 && partDob < 3)
      found['dob-day'] = 'Enter the date of birth with a day, month and year, or tick "not known"';
    if (!form.dobUnknown && partDob === 0 && (form.forename || form.surname))
      found['dob-day'] = 'Enter the date of birth, or tick "not known"';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const identity = toIdentity(form, numberKind, number, pncId);
      const started = performance.now();
      const data = await props.api.query(ConsoleChildHistoryDocument, { identity });
      performance.mark('mcx-answer');
      props.onFound({ history: data.childHistory, identity, waitedMs: performance.now() - started });
    } catch (err) {
      const api = err instanceof ApiError ? err : null;
      const id = api?.field ? FIELD_IDS[api.field] : api?.reason === 'IDENTITY_EMPTY' ? 'forename' : undefined;
      if (api && id) setErrors({ [id]: fieldError(api.reason, api.field, api.message) });
      else setErrors({ search: api ? refusalWords(api.code, api.reason) : 'The search failed. Try again.' });
    } finally {
      setBusy(false);
    }
  };

  const group = (id: string) => `govuk-form-group${errors[id] ? ' govuk-form-group--error' : ''}`;
  const described = (id: string, hint?: string) => [hint, errors[id] ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Search by identity
      </h1>
      <p className="govuk-body">
        The identity is turned into linkage keys on this node and never leaves it: no name is sent to another force.
      </p>
      <ErrorSummary errors={Object.entries(errors).map(([field, message]) => ({ field, message }))} />
      <form onSubmit={(e) => void submit(e)} noValidate aria-busy={busy}>
        <div className={group('forename')}>
          <label className="govuk-label" htmlFor="forename">
            First name
          </label>
          <FieldError id="forename" message={errors.forename} />
          <input
            className="govuk-input govuk-input--width-20"
            id="forename"
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={form.forename}
            aria-describedby={described('forename')}
            onChange={(e) => set('forename', e.target.value)}
          />
        </div>
        <div className={group('surname')}>
          <label className="govuk-label" htmlFor="surname">
            Last name
          </label>
          <FieldError id="surname" message={errors.surname} />
          <input
            className="govuk-input govuk-input--width-20"
            id="surname"
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={form.surname}
            aria-describedby={described('surname')}
            onChange={(e) => set('surname', e.target.value)}
          />
        </div>
        <div className={group('dob-day')}>
          <fieldset className="govuk-fieldset" role="group" aria-describedby={described('dob-day', 'dob-hint')}>
            <legend className="govuk-fieldset__legend govuk-fieldset__legend--s">Date of birth</legend>
            <div id="dob-hint" className="govuk-hint">
              For example, 27 3 2012
            </div>
            <FieldError id="dob-day" message={errors['dob-day']} />
            <div className="govuk-date-input">
              {(
                [
                  ['day', 'Day', 2],
                  ['month', 'Month', 2],
                  ['year', 'Year', 4],
                ] as const
              ).map(([k, label, width]) => (
                <div className="govuk-date-input__item" key={k}>
                  <div className="govuk-form-group">
                    <label className="govuk-label govuk-date-input__label" htmlFor={`dob-${k}`}>
                      {label}
                    </label>
                    <input
                      className={`govuk-input govuk-date-input__input govuk-input--width-${width}`}
                      id={`dob-${k}`}
                      type="text"
                      inputMode="numeric"
                      autoComplete="off"
                      disabled={form.dobUnknown}
                      value={form[k]}
                      onChange={(e) => set(k, e.target.value)}
                    />
                  </div>
                </div>
              ))}
            </div>
            <div className="govuk-checkboxes govuk-checkboxes--small mcx-gap-top">
              <div className="govuk-checkboxes__item">
                <input
                  className="govuk-checkboxes__input"
                  id="dob-unknown"
                  type="checkbox"
                  checked={form.dobUnknown}
                  onChange={(e) => set('dobUnknown', e.target.checked)}
                />
                <label className="govuk-label govuk-checkboxes__label" htmlFor="dob-unknown">
                  Date of birth not known
                </label>
              </div>
            </div>
          </fieldset>
        </div>
        <div className={group('sex')}>
          <fieldset className="govuk-fieldset" aria-describedby={described('sex')}>
            <legend className="govuk-fieldset__legend govuk-fieldset__legend--s">Sex</legend>
            <FieldError id="sex" message={errors.sex} />
            <div className="govuk-radios govuk-radios--small govuk-radios--inline">
              {SEXES.map(([v, label], i) => (
                <div className="govuk-radios__item" key={v}>
                  <input
                    className="govuk-radios__input"
                    id={i === 0 ? 'sex' : `sex-${v}`}
                    name="sex"
                    type="radio"
                    value={v}
                    checked={form.sex === v}
                    onChange={() => set('sex', v)}
                  />
                  <label className="govuk-label govuk-radios__label" htmlFor={i === 0 ? 'sex' : `sex-${v}`}>
                    {label}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
        <div className={group('number')}>
          <fieldset className="govuk-fieldset" aria-describedby={described('number', 'number-hint')}>
            <legend className="govuk-fieldset__legend govuk-fieldset__legend--s">NHS or CHI number</legend>
            <div id="number-hint" className="govuk-hint">
              10 digits. A CHI number is Scotland's.
            </div>
            <div className="govuk-radios govuk-radios--small govuk-radios--inline">
              {(
                [
                  ['nhs', 'NHS number'],
                  ['chi', 'CHI number'],
                ] as const
              ).map(([v, label]) => (
                <div className="govuk-radios__item" key={v}>
                  <input
                    className="govuk-radios__input"
                    id={`number-kind-${v}`}
                    name="number-kind"
                    type="radio"
                    checked={numberKind === v}
                    onChange={() => setNumberKind(v)}
                  />
                  <label className="govuk-label govuk-radios__label" htmlFor={`number-kind-${v}`}>
                    {label}
                  </label>
                </div>
              ))}
            </div>
            <FieldError id="number" message={errors.number} />
            <label className="govuk-label govuk-visually-hidden" htmlFor="number">
              {numberKind === 'nhs' ? 'NHS number' : 'CHI number'}
            </label>
            <input
              className="govuk-input govuk-input--width-10 mcx-gap-top"
              id="number"
              type="text"
              inputMode="numeric"
              autoComplete="off"
              value={number}
              onChange={(e) => setNumber(e.target.value)}
            />
          </fieldset>
        </div>
        <div className={group('pnc-id')}>
          <label className="govuk-label" htmlFor="pnc-id">
            PNC ID
          </label>
          <div id="pnc-id-hint" className="govuk-hint">
            For example, 11/123456A
          </div>
          <FieldError id="pnc-id" message={errors['pnc-id']} />
          <input
            className="govuk-input govuk-input--width-10"
            id="pnc-id"
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={pncId}
            aria-describedby={described('pnc-id', 'pnc-id-hint')}
            onChange={(e) => setPncId(e.target.value)}
          />
        </div>
        {errors.search && (
          <p className="govuk-error-message" id="search">
            {errors.search}
          </p>
        )}
        <button type="submit" className="govuk-button" disabled={busy}>
          {busy ? 'Searching every force…' : 'Search'}
        </button>
      </form>
    </>
  );
}
