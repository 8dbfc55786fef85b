import { useState, type FormEvent } from 'react';

import type { CaseContext } from '../api';
import type { ConsoleSettings } from '../settings';
import { PURPOSE_WORDS } from '../words';
import { ErrorSummary, FieldError } from './ErrorSummary';

/** An example case reference in this force's format, when the default pattern is in use. */
function example(settings: ConsoleSettings): string | null {
  const candidate = `${settings.force.slice(0, 4)}-26-1001`;
  return new RegExp(settings.caseRef.pattern).test(candidate) ? candidate : null;
}

/** Why, and for which case: asked before any search, kept for the session's case, sent with every read. */
export function CaseStart(props: { settings: ConsoleSettings; initial: CaseContext | null; onDone: (ctx: CaseContext) => void }) {
  const { settings } = props;
  // The investigator's own purposes; an audit review belongs to the auditors' pages.
  const purposes = settings.purposes.filter((p) => p !== 'AUDIT_REVIEW');
  const [purpose, setPurpose] = useState(props.initial?.purpose ?? '');
  const [caseRef, setCaseRef] = useState(props.initial?.caseRef ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const eg = example(settings);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ref = caseRef.trim();
    const found: Record<string, string> = {};
    if (!purpose) found.purpose = 'Choose why you are searching';
    if (!ref) found['case-ref'] = 'Enter the case reference';
    else if (ref.length > settings.caseRef.maxLength)
      found['case-ref'] = `The case reference must be ${settings.caseRef.maxLength} characters or fewer`;
    else if (!new RegExp(settings.caseRef.pattern).test(ref))
      found['case-ref'] = `Enter the case reference in your force's format${eg ? `, for example ${eg}` : ''}. It never contains a name.`;
    setErrors(found);
    if (Object.keys(found).length === 0) props.onDone({ purpose, caseRef: ref });
  };

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Why are you searching?
      </h1>
      <p className="govuk-body">
        Every search is recorded with your purpose and case reference, at this force and at every force that answers.
      </p>
      <ErrorSummary errors={Object.entries(errors).map(([field, message]) => ({ field, message }))} />
      <form onSubmit={submit} noValidate>
        <div className={`govuk-form-group${errors.purpose ? ' govuk-form-group--error' : ''}`}>
          <fieldset className="govuk-fieldset" aria-describedby={errors.purpose ? 'purpose-error' : undefined}>
            <legend className="govuk-fieldset__legend govuk-fieldset__legend--m">Purpose</legend>
            <FieldError id="purpose" message={errors.purpose} />
            <div className="govuk-radios" data-module="govuk-radios">
              {purposes.map((p, i) => (
                <div className="govuk-radios__item" key={p}>
                  <input
                    className="govuk-radios__input"
                    id={i === 0 ? 'purpose' : `purpose-${p}`}
                    name="purpose"
                    type="radio"
                    value={p}
                    checked={purpose === p}
                    onChange={() => setPurpose(p)}
                  />
                  <label className="govuk-label govuk-radios__label" htmlFor={i === 0 ? 'purpose' : `purpose-${p}`}>
                    {PURPOSE_WORDS[p] ?? p}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
        </div>
        <div className={`govuk-form-group${errors['case-ref'] ? ' govuk-form-group--error' : ''}`}>
          <label className="govuk-label govuk-label--m" htmlFor="case-ref">
            Case reference
          </label>
          <div id="case-ref-hint" className="govuk-hint">
            Your force's reference for this case{eg ? `, for example ${eg}` : ''}. Never a name.
          </div>
          <FieldError id="case-ref" message={errors['case-ref']} />
          <input
            className={`govuk-input govuk-input--width-20${errors['case-ref'] ? ' govuk-input--error' : ''}`}
            id="case-ref"
            name="caseRef"
            type="text"
            spellCheck={false}
            autoComplete="off"
            value={caseRef}
            aria-describedby={`case-ref-hint${errors['case-ref'] ? ' case-ref-error' : ''}`}
            onChange={(e) => setCaseRef(e.target.value)}
          />
        </div>
        <button type="submit" className="govuk-button">
          Continue
        </button>
      </form>
    </>
  );
}
